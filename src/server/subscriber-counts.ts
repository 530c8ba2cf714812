/** How many subscribers each channel has on this instance (the server API's `channels`), as the channel handlers report them. */
export class SubscriberCounts {
  readonly #counts = new Map<string, number>();

  /** The channel handlers' `onSubscribers`: the channel's local subscriber count changed to `count`. */
  readonly set = (channel: string, count: number): void => {
    if (count > 0) this.#counts.set(channel, count);
    else this.#counts.delete(channel);
  };

  entries(): Iterable<readonly [string, number]> {
    return this.#counts.entries();
  }
}

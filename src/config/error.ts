/** A bad option: one line naming the option (and the config file it came from), never echoing a secret value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /**
   * `option` null: the command line named no known option, and `detail` is the whole message.
   * `file`: the value came from this config file; `option` is then the key there (dotted inside
   * `namespaces`), or null for a problem with the file as a whole.
   */
  constructor(
    readonly option: string | null,
    detail: string,
    readonly file?: string,
  ) {
    super(
      file !== undefined
        ? `invalid config file ${file}: ${option === null ? detail : `"${option}": ${detail}`}`
        : option === null
          ? detail
          : `invalid option --${option}: ${detail}`,
    );
  }
}

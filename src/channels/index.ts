/** Channels: the handlers for subscribe, unsubscribe and publish, names and permissions. */
export { channelHandlers, type ChannelOptions } from './channel-handlers.ts';
export { createChannelService, type ChannelService, type ChannelServiceOptions, type PublishOptions } from './channel-service.ts';
export { ChannelNamespaces, NO_FEATURES, type NamespaceOptions } from './namespaces.ts';
export { isAllowed, matches, type ChannelAction } from './permissions.ts';
export { isValidChannel, CONTROL_CHANNEL } from './names.ts';

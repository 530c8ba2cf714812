export { channelHandlers, type ChannelOptions } from './channel-handlers.ts';
export { isAllowed, matches, type ChannelAction } from './permissions.ts';
export { isValidChannel, CONTROL_CHANNEL } from './names.ts';

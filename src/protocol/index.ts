/** The wire contract's messages: types, parsing and encoding. */
export type { Frame, InboundMessage, OutboundMessage, ErrorReply, ErrorReplyCode, AuthOkMessage } from './messages.ts';
export { parseMessage, parseAuthMessage, utf8ByteLength } from './parse.ts';
export type { ParseResult } from './parse.ts';
export { encode } from './encode.ts';

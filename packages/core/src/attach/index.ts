export { attachSocket, detachSocket, type SocketAttachment, type SocketLike } from './socket.ts';
export { attachXdp, interfaceIndex, type XdpAttachOptions, XdpLink, type XdpMode } from './xdp.ts';

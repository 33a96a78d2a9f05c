export { attachCgroup, CgroupLink, cgroup2Mount } from './cgroup.ts';
export { symbolOffset } from './elf-symbols.ts';
export { attachSocket, detachSocket, type SocketAttachment, type SocketLike, socketFd } from './socket.ts';
export { attachTcx, type TcxAttachOptions, type TcxDirection, TcxLink } from './tcx.ts';
export {
  attachRawTracepoint,
  attachTracepoint,
  RawTracepointLink,
  TracepointLink,
  tracepointId,
} from './tracepoint.ts';
export { attachUprobe, UprobeLink, type UprobeOptions } from './uprobe.ts';
export { attachXdp, interfaceIndex, type XdpAttachOptions, XdpLink, type XdpMode } from './xdp.ts';

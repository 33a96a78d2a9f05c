export { openFdCount } from './fds.ts';
export { requireKernel, skipUnsupported } from './kernel.ts';

export { requireKernel, skipUnsupported } from './kernel.ts';
export { openFdCount } from './fds.ts';

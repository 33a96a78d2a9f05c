export { Link, type LinkDescription, linkTypeName, type ProgramLike } from './link.ts';

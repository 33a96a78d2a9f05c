import { AttachType, LinkType, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError } from '../errors.ts';
import { type AttachTypeLike, attachTypeName, resolveAttachType } from '../program/types.ts';
import { createLink, Link, type TypedProgram } from './link.ts';

/** A sk_msg or sk_skb program attached to a sockmap or sockhash. Closing it detaches the program. */
export class SockmapLink extends Link {
  /** The hook: `AttachType.SkMsgVerdict`, `SkSkbVerdict`, `SkSkbStreamVerdict` or `SkSkbStreamParser`. */
  readonly attachType: number;

  /** @internal Use `attachSockmap`. */
  constructor(fd: number, attachType: number) {
    super(fd, LinkType.Sockmap);
    this.attachType = attachType;
  }
}

/** The hooks of a sockmap each program type can take. */
const hooks: Readonly<Record<number, readonly number[]>> = {
  [ProgType.SkMsg]: [AttachType.SkMsgVerdict],
  [ProgType.SkSkb]: [AttachType.SkSkbVerdict, AttachType.SkSkbStreamVerdict, AttachType.SkSkbStreamParser],
};

/**
 * Attaches a `sk_msg` program (verdict on every message sent on the map's sockets) or a `sk_skb`
 * program (stream parser, or verdict on what they receive) to a sockmap or sockhash through a
 * link (Linux 6.10+). `attachType` defaults to the program's own, else its first hook.
 */
export function attachSockmap(
  program: TypedProgram,
  map: { readonly fd: number },
  attachType?: AttachTypeLike,
): SockmapLink {
  const allowed = hooks[program.type];
  if (allowed === undefined)
    throw new InvalidArgumentError(
      `attachSockmap needs a sk_msg or sk_skb program, got program type ${program.type}`,
    );
  const type = attachType !== undefined ? resolveAttachType(attachType) : (program.attachType ?? allowed[0]!);
  if (!allowed.includes(type)) {
    throw new InvalidArgumentError(
      `attachSockmap: a ${program.type === ProgType.SkMsg ? 'sk_msg' : 'sk_skb'} program attaches at ${allowed.map(attachTypeName).join(' or ')}, not ${attachTypeName(type)}`,
    );
  }
  const fd = createLink({
    program,
    target: map.fd,
    attachType: type,
    what: `attaching to sockmap fd ${map.fd} at ${attachTypeName(type)}`,
  });
  return new SockmapLink(fd, type);
}

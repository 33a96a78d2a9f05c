// TCP connect latency: the time from SYN_SENT to ESTABLISHED of every outgoing connection.
// The sock/inet_sock_set_state tracepoint reports each state change with the socket; the
// socket's addresses and ports are read with CO-RE (BPF_CORE_READ on struct sock and struct
// inet_sock), so the object runs on any kernel with BTF whatever its layout of those structs.
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

// When a connect started, and who started it (the SYN-ACK may arrive in another context).
struct start {
  __u64 ts;
  __u32 pid;
  char comm[16];
};

// One connection that reached ESTABLISHED. Addresses are in network order; an IPv4 address
// fills the first 4 bytes.
struct event {
  __u64 latency_ns;
  __u32 pid;
  __u16 family;
  __u16 sport;
  __u16 dport;
  __u8 saddr[16];
  __u8 daddr[16];
  char comm[16];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8192);
  __type(key, struct sock *);
  __type(value, struct start);
} starts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} events SEC(".maps");

// Fills the addresses and ports of `e` from the socket.
static void read_endpoints(struct sock *sk, struct event *e) {
  struct inet_sock *inet = (struct inet_sock *)sk;
  e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
  e->sport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
  e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  // BPF_CORE_READ_INTO copies sizeof(*dst) bytes: it is given the whole array (&e->saddr).
  if (e->family == AF_INET) {
    __be32 saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    __be32 daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    __builtin_memcpy(e->saddr, &saddr, sizeof(saddr));
    __builtin_memcpy(e->daddr, &daddr, sizeof(daddr));
  } else {
    BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr);
    BPF_CORE_READ_INTO(&e->daddr, sk, __sk_common.skc_v6_daddr);
  }
}

SEC("tp/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx) {
  if (ctx->protocol != IPPROTO_TCP || (ctx->family != AF_INET && ctx->family != AF_INET6))
    return 0;
  struct sock *sk = (struct sock *)ctx->skaddr;

  if (ctx->newstate == TCP_SYN_SENT) {
    struct start start = {.ts = bpf_ktime_get_ns(), .pid = bpf_get_current_pid_tgid() >> 32};
    bpf_get_current_comm(start.comm, sizeof(start.comm));
    bpf_map_update_elem(&starts, &sk, &start, BPF_ANY);
    return 0;
  }
  if (ctx->oldstate != TCP_SYN_SENT)
    return 0;

  // Leaving SYN_SENT: established, or refused / timed out (then only forgotten).
  struct start *start = bpf_map_lookup_elem(&starts, &sk);
  if (!start)
    return 0;
  if (ctx->newstate == TCP_ESTABLISHED) {
    struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (e) {
      __builtin_memset(e, 0, sizeof(*e));
      e->latency_ns = bpf_ktime_get_ns() - start->ts;
      e->pid = start->pid;
      __builtin_memcpy(e->comm, start->comm, sizeof(e->comm));
      read_endpoints(sk, e);
      bpf_ringbuf_submit(e, 0);
    }
  }
  bpf_map_delete_elem(&starts, &sk);
  return 0;
}

/* C constructs whose BTF the C printer must write back as bpftool does (c.kernel.test.ts). */
typedef unsigned char u8;
typedef unsigned long long u64;

struct packed_size { int a; char b; } __attribute__((packed));
struct packed_off { char a; int b; } __attribute__((packed));
struct bits { char a; int b: 3; int c: 20; long d: 7; char e; int f: 4; u64 g: 33; };
struct gaps { char a; long b __attribute__((aligned(16))); char c; };
struct bfgap { int a: 3; int : 0; int b: 5; char c; short : 3; short d: 4; };
struct overaligned { char a; char b __attribute__((aligned(4))); short c: 4; char d __attribute__((aligned(8))); };
struct anon { int x; struct { } empty; struct { int y; } in; union { int u; char v; }; enum { ANON_A, ANON_B } kind; };
struct flex { int n; char data[]; };
enum small { S1 = 1, S2 = 2 } __attribute__((packed));
enum big { B1 = 1, B2 = 0x100000000ULL };
enum neg { N1 = -1, N2 = 2 };
enum { TOP_LEVEL_CONSTANT = 42 };
typedef int (*fn_t)(void);
typedef void (*fn2_t)(int, ...);
typedef struct { int first; } anon_t;
struct list { struct list *next, *prev; };
struct a;
struct b { struct a *a; anon_t t; };
struct a { struct b b; };
struct fns {
	fn_t f;
	int (*g[4])(char *const p, const volatile int *q);
	char (*(*h)(void))[8];
	void *restrict r;
	const struct list *const l;
};
union either { u64 wide; u8 bytes[8]; struct { int lo, hi; }; };

struct all {
	struct packed_size a;
	struct packed_off b;
	struct bits c;
	struct gaps d;
	struct bfgap e;
	struct overaligned f;
	struct anon g;
	enum small h;
	enum big i;
	enum neg j;
	fn2_t k;
	struct fns l;
	struct list m[2][3];
	union either n;
	struct a o;
	struct flex *p;
	int q[TOP_LEVEL_CONSTANT];
};

struct all global;

int entry(struct all *arg)
{
	return arg->c.b + arg->g.kind;
}

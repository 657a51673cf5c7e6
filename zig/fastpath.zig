//! Native per-operation fast paths: one FFI call does a whole push or pop of one
//! numeric element on an SpscQueue (Rigtorp), a Queue (Vyukov MPMC) or a RingBuffer, in the binary
//! format of docs/FORMAT.md (unchanged). Measured (docs/DECISIONS.md, "Fast paths"):
//! one FFI fast call (Deno ~4 ns, Bun ~2 ns) is cheaper than the 4-5 JS `Atomics`
//! calls plus checks it replaces (Deno ~7-12 ns each).
//!
//! ## Safety against hostile segments
//!
//! Everything that says *where* memory is comes from TypeScript as arguments (the
//! mapping's base, the control and data offsets, the slot count, the element kind),
//! computed from the name table entry that `Segment.openEntry` validated (block inside
//! the heap, `data + slots × stride` inside the block). Nothing read from the segment
//! is ever used as an address without a range check against those arguments:
//!   - SPSC: an index read from the segment (own or the other side's) must be
//!     `< slots` (an argument), else `CORRUPT` is returned and nothing is touched;
//!     the slot address is `data + index × size` with index < slots.
//!   - MPMC: positions are free-running u32 values; the slot is `position & (ring - 1)`
//!     with `ring` a power of two (an argument, checked here), so every position is in
//!     range by construction. A slot sequence "ahead" of a position that does not move
//!     when re-read is `CORRUPT` (a static hostile segment would otherwise loop forever),
//!     so no loop here can spin on hostile bytes: each retry needs another process to
//!     have really moved the position.
//!   - The private state block (cached indices, status) is process-private memory that
//!     TypeScript allocated; a cached index is only ever compared, never used as an address.
//! So whatever the segment bytes say, no access leaves `[data, data + slots × stride)`
//! and the control words.
//!
//! ## Orderings (each argued where it is used)
//!
//! Element stores and loads are plain; publication is by the index / sequence store.
//! Reads of the other side's index or a slot's sequence are acquire (on x86 a plain
//! `mov`); a side's own index is read relaxed (only this side writes it). The publishing
//! store is a release store (x86: `mov`) in a process registered for the asymmetric
//! fence (fence.zig), then a relaxed load of the eventcount's `waiters`; only when that
//! is non-zero (the eventcount is armed: a waiter exists or existed) is the full fence
//! of the Dekker handshake paid. Unregistered: a seq_cst store (`xchg`) and a seq_cst
//! load, the plain handshake. See `store` and `wake`, and "The wake handshake" below.
const std = @import("std");
const builtin = @import("builtin");
const linux = std.os.linux;
const sys = @import("sys.zig");
const futex = @import("futex.zig");
/// Public for bench/fastpath_micro.zig, which measures both publish forms (`fence.register`).
pub const fence = @import("fence.zig");

/// Result codes (i32 results and the state block's status word).
pub const OK: i32 = 1; // pushed / popped
pub const NONE: i32 = 0; // push: full; pop: empty
pub const INVALID: i32 = -@as(i32, @intFromEnum(linux.E.INVAL)); // value does not fit the element type
pub const RANGE: i32 = -@as(i32, @intFromEnum(linux.E.RANGE)); // stored 64-bit value is not a safe JS integer
pub const CORRUPT: i32 = -@as(i32, @intFromEnum(linux.E.UCLEAN)); // an index from the segment is out of range
pub const BADARG: i32 = -@as(i32, @intFromEnum(linux.E.FAULT)); // bad address, kind or layout from TypeScript
/// Queue only: a claim may be unfinished (its holder may have died): run the TypeScript
/// path, which owns the stall clock and the repairs (vyukov_repair.ts). Nothing was claimed.
pub const SLOW: i32 = -@as(i32, @intFromEnum(linux.E.AGAIN));

/// Element kinds, as `fastKind` numbers them in src/segment/elements.ts.
const Kind = enum(u32) { i8 = 0, u8 = 1, i16 = 2, u16 = 3, i32 = 4, u32 = 5, f32 = 6, f64 = 7, i64n = 8, u64n = 9 };
const KINDS = 10;

/// The stored type of a kind (the 64-bit "as number" kinds are stored as i64 / u64).
fn Elem(comptime k: Kind) type {
    return switch (k) {
        .i8 => i8,
        .u8 => u8,
        .i16 => i16,
        .u16 => u16,
        .i32 => i32,
        .u32 => u32,
        .f32 => f32,
        .f64 => f64,
        .i64n => i64,
        .u64n => u64,
    };
}

/// Private state block (i32 words, 8-aligned, in TypeScript-owned process memory):
const CACHED_READ = 0; // producer's last view of the read index (SPSC)
const CACHED_WRITE = 1; // consumer's last view of the write index (SPSC)
const POP_CHECKED = 0; // Queue, u64 in words 0-1: `ticks()` at the last empty pop's dead-claim check (`checkDue`)
const PUSH_CHECKED = 6; // Queue, u64 in words 6-7: the same for full pushes
const STATUS = 2; // outcome of the last pop that returned NaN
const DONE = 3; // bulk calls that return a negative code: how many elements they moved first
const BULK_RANGE = 4; // mpmc_pop_bulk: how many of the elements it moved were RANGE (given as NaN)

const MAX_SAFE: f64 = 9007199254740991.0; // 2^53 - 1

// Each operation is specialised on the element kind at compile time: the exported
// function switches on `kind` once (`inline else`: one jump table) into a body in which
// the element's size, conversion and checks are constants. Measured with the rest of
// this change (docs/DECISIONS.md "Fast paths"): the kind dispatch in `store` / `load`
// was a second jump table per call, and the slot address a multiply by SIZES[kind].

/// `v` as a T when it is an integer in T's range, else null. The range test comes
/// first (it also refuses NaN), so the conversion is defined and exact-or-truncating;
/// `v` is an integer exactly when converting back gives it again (-0 gives 0 == -0:
/// accepted, as `accepts` does). This replaces `@trunc(v) == v`: with the packaged
/// libraries' baseline x86-64 (no SSE4.1 `roundsd`) `@trunc` is a call to libc's
/// `trunc` through the PLT, and its spills made every fast path save registers.
inline fn integral(comptime T: type, v: f64, lo: f64, hi: f64) ?T {
    if (!(v >= lo and v <= hi)) return null;
    const x: T = @intFromFloat(v);
    return if (@as(f64, @floatFromInt(x)) == v) x else null;
}

/// `v` as kind `k` stores it (the same rules as the type's `accepts` in elements.ts),
/// or null when it does not fit.
inline fn encode(comptime k: Kind, v: f64) ?Elem(k) {
    const T = Elem(k);
    return switch (k) {
        .f64 => v,
        .f32 => @floatCast(v),
        .i64n => integral(i64, v, -MAX_SAFE, MAX_SAFE), // Number.isSafeInteger
        // Through i64 (one cvttsd2si; f64 -> u64 is a longer sequence), exact below 2^53.
        .u64n => if (integral(i64, v, 0, MAX_SAFE)) |x| @bitCast(x) else null,
        else => integral(T, v, @floatFromInt(std.math.minInt(T)), @floatFromInt(std.math.maxInt(T))),
    };
}

/// The stored `x` as an f64; for the 64-bit "as number" kinds, a value beyond
/// ±(2^53 - 1) sets `range` (the caller reports OUT_OF_RANGE, as elements.ts does).
inline fn decode(comptime k: Kind, x: Elem(k), range: *bool) f64 {
    switch (k) {
        .f64 => return x,
        .f32 => return @floatCast(x),
        .i64n => {
            if (x > (1 << 53) - 1 or x < -((1 << 53) - 1)) range.* = true;
            return @floatFromInt(x);
        },
        .u64n => {
            if (x > (1 << 53) - 1) range.* = true;
            return @floatFromInt(@as(i64, @bitCast(x))); // through i64 (shorter than u64 -> f64); a value >= 2^63 is RANGE anyway
        },
        else => return @floatFromInt(x),
    }
}

inline fn elemAt(comptime k: Kind, p: usize) *align(1) Elem(k) {
    return @ptrFromInt(p);
}

inline fn word(addr: usize) *u32 {
    return @ptrFromInt(addr);
}

/// An address passed as f64 by TypeScript (a mapping's base or the state block), or
/// null. Cheaper than sys.address (no rounding check: this is the hottest code, and
/// these numbers come from shmkit's own TypeScript, not from the segment): a value
/// outside (0, 2^48) is refused before the conversion, a fraction is truncated, and
/// the result must be aligned to `alignment` (a mapping is page-aligned, so every
/// control offset TypeScript passes is aligned too).
inline fn addressOf(a: f64, comptime alignment: usize) ?usize {
    if (!(a > 0 and a < 0x1p48)) return null;
    // Through i64: one cvttsd2si (f64 -> u64 is a longer sequence for values >= 2^63,
    // which the test above has excluded).
    const x: usize = @intCast(@as(i64, @intFromFloat(a)));
    if (x % alignment != 0) return null;
    return x;
}

inline fn baseOf(base: f64) ?usize {
    return addressOf(base, 64);
}

inline fn stateOf(state: f64) ?[*]i32 {
    return @ptrFromInt(addressOf(state, 8) orelse return null);
}

// ---------------------------------------------------------------------------------
// The handle's descriptor (ABI 6). A handle binds once (shmkit_spsc_bind,
// shmkit_mpmc_bind): where its queue lies (the mapping's base, the control and data
// offsets, the geometry, the element kind or size, the claim record, the value or
// scratch buffer) is checked there, as every call used to check its arguments, and
// written after the status words of the handle's state block. Every call then passes
// only the block's address, and a value or a count. Why: each f64 address argument
// cost a range check and a conversion per call, each argument a register move in the
// runtimes' trampolines, and a seven-argument call a frame; measured, a same-thread
// SPSC push+pop pair (docs/DECISIONS.md "Fast paths"): native loop 7.7-8.7 → 6.9 ns,
// through Bun's FFI 16.4-17.8 → 11.0-14.2 ns, Deno's 23.7-24.7 → 20.5-22.3 ns. The
// block is process-private memory that TypeScript owns and writes only through these
// calls (the status and cached-index words excepted), so it is trusted as the
// arguments were; everything read from the segment is still range-checked per call.

/// Byte offset of the descriptor in the state block, and the block's size.
const DESC = 32;
pub const STATE_BYTES = 128;
/// `Desc.bound` once a bind succeeded: which kind of queue it was bound to.
const SPSC_BOUND: u32 = 0x5350_5343;
const MPMC_BOUND: u32 = 0x4d50_4d43;
/// The element "kind" of the byte-copy calls (any element type, `size` bytes).
const BYTES: u32 = KINDS;

const Desc = extern struct {
    bound: u32, // SPSC_BOUND / MPMC_BOUND; anything else (an unbound block): BADARG
    kind: u32, // a Kind, or BYTES
    base: usize,
    buf: usize, // numeric Queue: the bulk calls' f64 values; BYTES: the scratch block
    ctrl: u32,
    data: u32,
    slots: u32, // SpscQueue: capacity + 1; Queue: the ring, a power of two
    capacity: u32,
    elem_off: u32, // Queue: the element's offset in its slot (SpscQueue: 0)
    stride: u32, // Queue: slot bytes; SpscQueue: element bytes
    size: u32, // the element's bytes
    rec: u32, // Queue: this process's claim record, bytes from base
    buf_len: u32, // f64 values (numeric) or bytes (BYTES) at `buf`
    modulus: u32 = 0, // RingBuffer: positions wrap here (a multiple of `capacity`)
};

comptime {
    std.debug.assert(DESC + @sizeOf(Desc) <= STATE_BYTES);
}

const Handle = struct { st: [*]i32, d: *const Desc };

/// The state block at `state` and its descriptor, if `bind` bound it (else null: BADARG).
inline fn handleOf(state: f64, bound: u32) ?Handle {
    const a = addressOf(state, 8) orelse return null;
    const d: *const Desc = @ptrFromInt(a + DESC);
    if (d.bound != bound) return null;
    return .{ .st = @ptrFromInt(a), .d = d };
}

/// The descriptor of the block at `state`, marked unbound until its bind has checked everything.
inline fn unbound(state: f64) ?*Desc {
    const d: *Desc = @ptrFromInt((addressOf(state, 8) orelse return null) + DESC);
    d.bound = 0;
    return d;
}

fn sizeOfKind(kind: u32) u32 {
    return switch (@as(Kind, @enumFromInt(kind))) {
        inline else => |k| @sizeOf(Elem(k)),
    };
}

/// The element a byte call moves: the handle's scratch block.
inline fn bytesOf(d: *const Desc) Bytes {
    return .{ .p = @ptrFromInt(d.buf), .n = d.size };
}

/// The element a byte push copies: `size` bytes at byte `from` of the scratch block
/// (0: what the type's `write` staged; TypeScript's staging view keeps a second copy
/// further on, src/structures/staging_view.ts), or null (BADARG) if they would leave it.
inline fn bytesFrom(d: *const Desc, from: u32) ?Bytes {
    if (from > d.buf_len - d.size) return null; // bind checked buf_len >= size
    return .{ .p = @ptrFromInt(d.buf + from), .n = d.size };
}

// ---------------------------------------------------------------------------------
// The wake handshake.
//
// A consumer that parks on an eventcount does (src/wait/wait.ts, all seq_cst JS Atomics):
//   (0) arm the eventcount unless it is ARMED (once: fence.zig); (1) waiters += 1; (2) s = seq; (3) re-check: poll the queue (for numeric elements
//   that is the native pop below); (4) futex_wait(seq, s); waiters -= 1.
// A producer does (publish below): (a) store the index / sequence, seq_cst (x86: `xchg`,
// a full fence); (b) load waiters, seq_cst (x86: a plain `mov`); if it is non-zero,
// (c) seq += 1 and FUTEX_WAKE.
//
// Dekker argument: (1)(2)(3)(a)(b) are all seq_cst, so they lie in one total order. If
// (a) precedes (3), the consumer's re-check sees the element and it does not park.
// Otherwise (3) precedes (a), hence (1) precedes (a) precedes (b): the producer sees
// waiters >= 1 and does (c); and (2) precedes (a) precedes (c), so the consumer's `s` is
// older than the increment and its futex_wait returns EAGAIN or is woken. No wake-up is
// lost. With a release store in (a), x86's store buffer lets (b) complete before (a) is
// visible while (3) misses (a): a lost wake-up. So the publishing store is the one full
// fence an operation pays; everything else is plain or acquire/release. The read-modify-
// write and the syscall (c) are paid only when someone is parked.
//
// That is the unregistered form. A registered process moves the fence to the waiter,
// once per eventcount (fence.zig, "asymmetric"): (a) is a release store, (b) a relaxed
// load after a compiler barrier; 0 ends it (no waiter ever armed the eventcount, and
// the membarrier of one arming now covers this store); non-zero means armed, and the
// full fence is a seq_cst RMW on `waiters` (ordered with every waiter's `waiters += 1`:
// either it reads the waiter's increment and wakes, or the waiter's increment reads
// it, so the waiter's re-check sees the store). A membarrier per park instead was
// built and rejected (17.6 µs each with a running peer on this VM; docs/DECISIONS.md).
// Stress: tests/wake_handshake.test.ts.
// C programs: docs/WAITING.md (a C producer may always use the seq_cst form; a C waiter arms first).

/// Which form the next publish to the eventcount at `ec` takes: true = the plain
/// Dekker form (seq_cst store, then a seq_cst load of `waiters`), for an unregistered
/// process or an eventcount that is armed (or has a waiter) already — the flags are
/// sticky, so a value read before the store can only be stale towards "not armed",
/// and that form re-checks after its store. So an armed eventcount costs what it cost
/// before the asymmetric fence; the light form's fallback, a seq_cst RMW of `waiters`,
/// writes a line the other side reads, and is left to the rare publish that races an
/// arming.
inline fn dekker(ec: usize) bool {
    return !fence.light() or @atomicLoad(u32, word(ec + 4), .monotonic) != 0;
}

/// Step (a): the publishing store of the index / sequence word `at`: seq_cst (x86:
/// `xchg`) in the Dekker form, else release (x86: `mov`; fence.zig).
inline fn store(at: usize, value: u32, dk: bool) void {
    if (dk) {
        // Its other standard mapping, `mov` then `lock orl $0,-64(%rsp)`, was measured and
        // not kept (docs/DECISIONS.md "Fast paths": ~1 ns slower through FFI).
        @atomicStore(u32, word(at), value, .seq_cst);
    } else {
        @atomicStore(u32, word(at), value, .release);
    }
}

/// Steps (b) and (c): wakes one waiter of the eventcount at `ec` if there may be one.
/// Callers did `store(.., dk)` (and possibly more release stores) before it.
inline fn wake(ec: usize, dk: bool) void {
    // Not the Dekker form: this process is registered (`dekker` says so otherwise).
    if (!dk) return wakeAfterRelease(ec, 1);
    if (@atomicLoad(u32, word(ec + 4), .seq_cst) & fence.COUNT == 0) return; // x86: mov
    futexWake(ec, 1);
}

/// Wakes up to `n` waiters of the eventcount at `ec` if there may be one, after
/// publishing stores that were only release: the single calls' light form and every
/// bulk call. The seq_cst RMW of `waiters` (adding 0; x86 `lock xadd`) is then the
/// handshake's full fence, ordered with every `waiters += 1` (the bulk argument above
/// `mpmcPushBulk`). In a registered process even that is skipped while the eventcount
/// was never armed (fence.zig): a relaxed load after a compiler barrier reads 0, and an
/// arming waiter's membarrier covers the stores.
inline fn wakeAfterRelease(ec: usize, n: u32) void {
    const w = word(ec + 4);
    if (fence.light()) {
        // Keeps the compiler from hoisting the load above the publishing stores: the
        // membarrier argument needs them in program order; the hardware keeps it for
        // the IPI barrier.
        asm volatile ("" ::: "memory");
        if (@atomicLoad(u32, w, .monotonic) == 0) return; // never armed, nobody waiting
    }
    // The count is the low 30 bits (the top two are the arming flags, fence.zig).
    if (@atomicRmw(u32, w, .Add, 0, .seq_cst) & fence.COUNT == 0) return;
    futexWake(ec, n);
}

/// Step (c): seq += 1, then FUTEX_WAKE (shared: no FUTEX_PRIVATE_FLAG) of up to `n`.
inline fn futexWake(ec: usize, n: u32) void {
    _ = @atomicRmw(u32, word(ec), .Add, 1, .seq_cst);
    _ = linux.syscall3(.futex, ec, 1, n);
}

/// Publishes `value` at `at`, then wakes one waiter of the eventcount at `ec`.
inline fn publish(at: usize, value: u32, ec: usize) void {
    const dk = dekker(ec);
    store(at, value, dk);
    wake(ec, dk);
}

// ---------------------------------------------------------------------------------
// SpscQueue (kind 4): control +0 u32 write index, +8 eventcount not-empty; +64 u32
// read index, +72 eventcount not-full. Data: `slots` = capacity + 1 elements of the
// kind's size at `data`.

const W = 0;
const NOT_EMPTY = 8;
const R = 64;
const NOT_FULL = 72;

/// Binds the state block at `state` to an SpscQueue in the mapping at `base`: indices
/// at `ctrl`, `slots` (capacity + 1) elements at `data`, of fast-path `kind`, or with
/// kind BYTES of `size` bytes moved through the scratch block at `scratch` (8-aligned,
/// `scratch_len` bytes, at least `size`: TypeScript's). The elements must lie in the
/// mapping: TypeScript checks it. OK, or BADARG with the block left unbound.
pub export fn shmkit_spsc_bind(state: f64, base: f64, ctrl: u32, data: u32, slots: u32, kind: u32, size: u32, scratch: f64, scratch_len: u32) i32 {
    const d = unbound(state) orelse return BADARG;
    const b = baseOf(base) orelse return BADARG;
    if (slots < 2 or ctrl % 8 != 0) return BADARG;
    var buf: usize = 0;
    var bytes: u32 = undefined;
    if (kind < KINDS) {
        bytes = sizeOfKind(kind);
    } else if (kind == BYTES and size > 0 and scratch_len >= size) {
        buf = addressOf(scratch, 8) orelse return BADARG;
        bytes = size;
    } else return BADARG;
    d.* = .{
        .bound = 0,
        .kind = kind,
        .base = b,
        .buf = buf,
        .ctrl = ctrl,
        .data = data,
        .slots = slots,
        .capacity = slots - 1,
        .elem_off = 0,
        .stride = bytes,
        .size = bytes,
        .rec = 0,
        .buf_len = if (kind == BYTES) scratch_len else 0,
    };
    d.bound = SPSC_BOUND;
    return OK;
}

/// SpscQueue's numeric calls for kind `k`, exported once per kind (`shmkit_spsc_push_f64`,
/// ..., below) so that a call needs no switch on the kind (measured: ~0.7 ns per
/// push+pop pair in a native loop; docs/DECISIONS.md "Fast paths"). The handle picks
/// the pair of its kind when it binds; a block bound for another kind, or for the byte
/// calls, is BADARG.
fn SpscOf(comptime k: Kind) type {
    return struct {
        /// Pushes `value` (producer only). Returns OK, NONE (full), INVALID (value does
        /// not fit the kind; checked first, so a bad value is INVALID even when full),
        /// CORRUPT (an index in the segment is out of range), or BADARG.
        fn push(state: f64, value: f64) callconv(.c) i32 {
            const h = handleOf(state, SPSC_BOUND) orelse return BADARG;
            const d = h.d;
            if (d.kind != @intFromEnum(k)) return BADARG;
            return spscClaimPut(d.base, d.ctrl, d.data, d.slots, h.st, @sizeOf(Elem(k)), NumPut(k).of(value));
        }

        /// Pops one element (consumer only). Returns the value; when it returns NaN the
        /// state block's STATUS word says why: OK (the element was NaN), NONE (empty),
        /// RANGE (a 64-bit element beyond ±2^53; the element is consumed, as the JS read
        /// does), CORRUPT or BADARG.
        fn pop(state: f64) callconv(.c) f64 {
            const h = handleOf(state, SPSC_BOUND) orelse return fail(state, BADARG);
            const d = h.d;
            if (d.kind != @intFromEnum(k)) return fail(state, BADARG);
            var t = NumTake(k){};
            return popResult(h.st, spscClaimTake(d.base, d.ctrl, d.data, d.slots, h.st, @sizeOf(Elem(k)), &t), t);
        }
    };
}

comptime {
    for (std.enums.values(Kind)) |k| {
        @export(&SpscOf(k).push, .{ .name = "shmkit_spsc_push_" ++ @tagName(k) });
        @export(&SpscOf(k).pop, .{ .name = "shmkit_spsc_pop_" ++ @tagName(k) });
        @export(&MpmcOf(k).push, .{ .name = "shmkit_mpmc_push_" ++ @tagName(k) });
        @export(&MpmcOf(k).pop, .{ .name = "shmkit_mpmc_pop_" ++ @tagName(k) });
        @export(&RingOf(k).push, .{ .name = "shmkit_ring_push_" ++ @tagName(k) });
        @export(&RingOf(k).pop, .{ .name = "shmkit_ring_pop_" ++ @tagName(k) });
    }
}

/// SpscQueue's push after its arguments are checked: `e.ok()` says whether the element
/// is valid (INVALID otherwise, even when full, after the index checks), `e.put(address
/// of the slot)` writes it; then the publish. Elements are `size` bytes apart. Shared by
/// the numeric and the byte-copy pushes.
inline fn spscClaimPut(b: usize, ctrl: u32, data: u32, slots: u32, st: [*]i32, size: usize, e: anytype) i32 {
    const c = b + ctrl;
    // Own index: only this producer writes it, so a relaxed load sees its own last store.
    const w = @atomicLoad(u32, word(c + W), .monotonic);
    if (w >= slots) return CORRUPT;
    var next = w + 1;
    if (next == slots) next = 0;
    if (next == @as(u32, @bitCast(st[CACHED_READ]))) {
        // Acquire: pairs with the consumer's publishing store of the read index, which
        // follows its read of the slot; so our write below cannot overtake that read.
        const r = @atomicLoad(u32, word(c + R), .acquire);
        if (r >= slots) return CORRUPT;
        st[CACHED_READ] = @bitCast(r);
        if (next == r) return if (e.ok()) NONE else INVALID; // a bad value is INVALID even when full
    }
    // The slot is unpublished until the index store, so a rejected value changes nothing.
    if (!e.ok()) return INVALID;
    e.put(b + data + @as(usize, w) * size);
    publish(c + W, next, c + NOT_EMPTY);
    return OK;
}

/// Reports `status` through the state block (if it is a valid address) and returns NaN.
noinline fn fail(state: f64, status: i32) f64 {
    if (stateOf(state)) |st| st[STATUS] = status;
    return std.math.nan(f64);
}

/// The element of a numeric push: `x`, the value as kind `k` stores it, when `valid`
/// (`encode` gave one). Two fields, not an optional: an optional element was kept in
/// memory and read back with one wider load than its two stores, a store-forwarding
/// stall that cost the u32 SPSC pair 8 ns (9 -> 17 ns in bench/fastpath_micro.zig).
fn NumPut(comptime k: Kind) type {
    return struct {
        x: Elem(k),
        valid: bool,
        inline fn of(value: f64) @This() {
            const e = encode(k, value);
            return .{ .x = e orelse 0, .valid = e != null };
        }
        inline fn ok(self: @This()) bool {
            return self.valid;
        }
        inline fn put(self: @This(), at: usize) void {
            elemAt(k, at).* = self.x;
        }
    };
}

/// The element of a numeric pop: read as an f64, `range` set for a 64-bit value beyond
/// ±2^53 (`decode`).
fn NumTake(comptime k: Kind) type {
    return struct {
        v: f64 = 0,
        range: bool = false,
        inline fn take(self: *@This(), at: usize) void {
            self.v = decode(k, elemAt(k, at).*, &self.range);
        }
    };
}

/// What a numeric pop returns after its claim returned `code`: the element, or NaN with
/// the STATUS word saying why (the code; RANGE; OK when the element itself is NaN).
inline fn popResult(st: [*]i32, code: i32, t: anytype) f64 {
    const nan = std.math.nan(f64);
    if (code != OK) {
        st[STATUS] = code;
        return nan;
    }
    if (t.range) {
        st[STATUS] = RANGE;
        return nan;
    }
    if (t.v != t.v) st[STATUS] = OK;
    return t.v;
}

/// SpscQueue's pop after its arguments are checked: `e.take(address of the slot)` reads
/// the oldest element, then the slot is handed back. OK, NONE (empty) or CORRUPT.
/// Shared by the numeric and the byte-copy pops.
inline fn spscClaimTake(b: usize, ctrl: u32, data: u32, slots: u32, st: [*]i32, size: usize, e: anytype) i32 {
    const c = b + ctrl;
    const r = @atomicLoad(u32, word(c + R), .monotonic); // own index
    if (r >= slots) return CORRUPT;
    if (r == @as(u32, @bitCast(st[CACHED_WRITE]))) {
        // Acquire: pairs with the producer's publishing store of the write index, which
        // follows its write of the element; so the read below sees the element.
        const w = @atomicLoad(u32, word(c + W), .acquire);
        if (w >= slots) return CORRUPT;
        st[CACHED_WRITE] = @bitCast(w);
        if (r == w) return NONE;
    }
    e.take(b + data + @as(usize, r) * size);
    var next = r + 1;
    if (next == slots) next = 0;
    // The element is read before the slot is handed back (the same publish, and wake
    // handshake, as push, with a producer parked on "not full").
    publish(c + R, next, c + NOT_FULL);
    return OK;
}

// SpscQueue of any element type: as the Queue byte calls below (a scratch block the
// type's own code fills and reads), elements `size` bytes apart (FORMAT.md).

/// The byte-copy element of the SPSC and MPMC calls: `n` bytes from / to `p`.
const Bytes = struct {
    p: [*]u8,
    n: usize,
    inline fn ok(_: Bytes) bool {
        return true; // checked by the type's `write` before the call
    }
    inline fn put(self: Bytes, at: usize) void {
        @memcpy(@as([*]u8, @ptrFromInt(at))[0..self.n], self.p[0..self.n]);
    }
    inline fn take(self: *const Bytes, at: usize) void {
        @memcpy(self.p[0..self.n], @as([*]const u8, @ptrFromInt(at))[0..self.n]);
    }
};

/// Pushes the element staged at byte `from` of the handle's scratch block (producer
/// only; a value TypeScript has already checked). OK, NONE (full), CORRUPT or BADARG,
/// as shmkit_spsc_push.
pub export fn shmkit_spsc_push_bytes(state: f64, from: u32) i32 {
    const h = handleOf(state, SPSC_BOUND) orelse return BADARG;
    if (h.d.kind != BYTES) return BADARG;
    const e = bytesFrom(h.d, from) orelse return BADARG;
    return spscClaimPut(h.d.base, h.d.ctrl, h.d.data, h.d.slots, h.st, h.d.size, e);
}

/// Pops the oldest element into the handle's scratch block (consumer only). OK, NONE
/// (empty), CORRUPT or BADARG.
pub export fn shmkit_spsc_pop_bytes(state: f64) i32 {
    const h = handleOf(state, SPSC_BOUND) orelse return BADARG;
    if (h.d.kind != BYTES) return BADARG;
    const e = bytesOf(h.d);
    return spscClaimTake(h.d.base, h.d.ctrl, h.d.data, h.d.slots, h.st, h.d.size, &e);
}

// ---------------------------------------------------------------------------------
// RingBuffer (src/structures/ring_buffer.ts, docs/FORMAT.md "ring"): control +0 i32 head,
// +4 i32 epoch, +8 eventcount not-empty, +16 the producer claim (TypeScript's); +64 i32
// tail, +72 eventcount not-full. Positions run in [0, modulus), modulus a multiple of
// the capacity; the slot of a position is `pos % capacity`; `capacity` elements of the
// kind at `data`. One producer (its claim is taken in TypeScript before any push);
// consumers commit a pop with a CAS on the tail, which also loses to the producer's
// `pushOverwrite` (TypeScript), so no element is taken twice. Word for word what
// ring_buffer.ts `tryPush` / `tryPop` do, with the same Rigtorp-style caches, kept in the
// state block: the producer's view of the tail, trusted only while the head is still the
// one it was taken against; a consumer's view of the head, trusted only while the tail is
// still its own last commit (another handle moving a position drops the cache, so it is
// never stale by a wrap). TypeScript's own paths (bulk, overwrite) keep their caches in
// the handle by the same rule, so each side sees the other's moves and reloads.
// Hostile segment: a head or tail >= modulus is CORRUPT before any access; head - tail
// beyond the capacity with the tail confirmed unchanged is CORRUPT (TypeScript's
// "overfull"); the pop's retries each need the tail to have really moved.

const RING_HEAD = 0;
const RING_EPOCH = 4;
const RING_NOT_EMPTY = 8;
const RING_TAIL = 64;
const RING_NOT_FULL = 72;
const RING_BOUND: u32 = 0x5249_4e47;
// State block words: the producer's cache and the head it was taken at, a consumer's.
const TAIL_CACHE = 0;
const LAST_HEAD = 1;
const HEAD_CACHE = 4;
const LAST_TAIL = 5;

/// Binds the state block at `state` to a RingBuffer in the mapping at `base`: control
/// words at `ctrl`, `capacity` (1 to 2^30) elements of `kind` (a typed-array kind,
/// i8 … f64), or with kind BYTES of `size` bytes moved through the scratch block at
/// `scratch` (8-aligned, `scratch_len` bytes, at least `size`: TypeScript's), at `data`;
/// positions wrapping at `modulus` (a multiple of `capacity`, at least twice it, at
/// most 2^31). The elements must lie in the mapping: TypeScript checks it. OK, or BADARG.
pub export fn shmkit_ring_bind(state: f64, base: f64, ctrl: u32, data: u32, capacity: u32, modulus: u32, kind: u32, size: u32, scratch: f64, scratch_len: u32) i32 {
    const d = unbound(state) orelse return BADARG;
    const b = baseOf(base) orelse return BADARG;
    if (capacity < 1 or capacity > 1 << 30 or ctrl % 8 != 0) return BADARG;
    if (modulus > 1 << 31 or modulus % capacity != 0 or modulus / capacity < 2) return BADARG;
    var buf: usize = 0;
    var bytes: u32 = undefined;
    if (kind <= @intFromEnum(Kind.f64)) {
        bytes = sizeOfKind(kind); // the 64-bit "as number" kinds move as BYTES (TypeScript decodes them)
    } else if (kind == BYTES and size > 0 and scratch_len >= size) {
        buf = addressOf(scratch, 8) orelse return BADARG;
        bytes = size;
    } else return BADARG;
    d.* = .{
        .bound = 0,
        .kind = kind,
        .base = b,
        .buf = buf,
        .ctrl = ctrl,
        .data = data,
        .slots = capacity,
        .capacity = capacity,
        .elem_off = 0,
        .stride = bytes,
        .size = bytes,
        .rec = 0,
        .buf_len = if (kind == BYTES) scratch_len else 0,
        .modulus = modulus,
    };
    const st = stateOf(state).?;
    st[LAST_HEAD] = -1; // no cache yet
    st[LAST_TAIL] = -1;
    d.bound = RING_BOUND;
    return OK;
}

/// (a - b) modulo `m`, for positions a at or after b (both below m).
inline fn ringDist(a: u32, b: u32, m: u32) u32 {
    return if (a >= b) a - b else a +% (m - b);
}

inline fn ringAdd(p: u32, k: u32, m: u32) u32 {
    const q = p + k; // p < m <= 2^31 and k <= 2^30: no overflow
    return if (q >= m) q - m else q;
}

/// The address of position `pos`'s element (`size` bytes each); inside the data region
/// whatever `pos` is, as the slot index is below the capacity.
inline fn ringSlot(d: *const Desc, size: usize, pos: u32) usize {
    const cap = d.capacity;
    const i = if (cap & (cap - 1) == 0) pos & (cap - 1) else pos % cap;
    return d.base + d.data + @as(usize, i) * size;
}

/// RingBuffer's numeric calls for kind `k`, exported once per kind as SpscOf's.
fn RingOf(comptime k: Kind) type {
    return struct {
        /// Pushes `value` (the producer: TypeScript holds the claim). OK, NONE (full; a
        /// full ring is reported before the value is checked, as tryPush does), INVALID,
        /// CORRUPT or BADARG.
        fn push(state: f64, value: f64) callconv(.c) i32 {
            const h0 = handleOf(state, RING_BOUND) orelse return BADARG;
            if (h0.d.kind != @intFromEnum(k)) return BADARG;
            return ringPut(h0.d, h0.st, @sizeOf(Elem(k)), NumPut(k).of(value));
        }

        /// Pops one element: the value, or NaN with the state block's STATUS word saying
        /// why: OK (the element was NaN), NONE (empty), CORRUPT or BADARG.
        fn pop(state: f64) callconv(.c) f64 {
            const h0 = handleOf(state, RING_BOUND) orelse return fail(state, BADARG);
            const d = h0.d;
            const st = h0.st;
            if (d.kind != @intFromEnum(k)) return fail(state, BADARG);
            var t = NumTake(k){};
            return popResult(st, ringTake(d, st, @sizeOf(Elem(k)), &t), t);
        }
    };
}

/// The producer's push: ring_buffer.ts `tryPush`, step for step. `e.ok()` says whether
/// the element is valid (checked after the full test, as tryPush does), `e.put(address
/// of the slot)` writes it. OK, NONE (full), INVALID or CORRUPT. Shared by the numeric
/// and the byte-copy pushes.
inline fn ringPut(d: *const Desc, st: [*]i32, size: usize, e: anytype) i32 {
    const c = d.base + d.ctrl;
    const m = d.modulus;
    // Own position: only the producer writes it.
    const h = @atomicLoad(u32, word(c + RING_HEAD), .monotonic);
    const tc: u32 = @bitCast(st[TAIL_CACHE]);
    if (h != @as(u32, @bitCast(st[LAST_HEAD])) or h >= m or ringDist(h, tc, m) >= d.capacity) {
        if (h >= m) return CORRUPT;
        // Acquire: pairs with the consumer's commit (a seq_cst CAS after its read of
        // the slot), so the write below cannot overtake that read.
        const t = @atomicLoad(u32, word(c + RING_TAIL), .acquire);
        if (t >= m) return CORRUPT;
        st[TAIL_CACHE] = @bitCast(t);
        if (ringDist(h, t, m) >= d.capacity) {
            st[LAST_HEAD] = @bitCast(h);
            return NONE;
        }
    }
    if (!e.ok()) return INVALID; // the slot is unpublished until the head store
    e.put(ringSlot(d, size, h));
    const q = ringAdd(h, 1, m);
    // The epoch first, so a reader of totalWritten never sees it behind the head
    // (ring_buffer.ts #publish).
    const half = m / 2;
    if ((q >= half) != (h >= half)) _ = @atomicRmw(u32, word(c + RING_EPOCH), .Add, 1, .seq_cst);
    publish(c + RING_HEAD, q, c + RING_NOT_EMPTY);
    st[LAST_HEAD] = @bitCast(q);
    return OK;
}

/// A consumer's pop: ring_buffer.ts `tryPop`, step for step. OK (the element taken by
/// `e.take`), NONE or CORRUPT. The element is copied before the commit and may be torn
/// by an overwrite then; the commit fails in that case and the copy is taken again, so
/// only an element whose commit succeeded is ever returned (or, for the byte calls,
/// left in the scratch block). Shared by the numeric and the byte-copy pops.
inline fn ringTake(d: *const Desc, st: [*]i32, size: usize, e: anytype) i32 {
    const c = d.base + d.ctrl;
    const m = d.modulus;
    const cap = d.capacity;
    // A stale value only makes the CAS below fail.
    var t = @atomicLoad(u32, word(c + RING_TAIL), .monotonic);
    while (true) {
        var avail: u32 = if (t == @as(u32, @bitCast(st[LAST_TAIL])) and t < m) ringDist(@bitCast(st[HEAD_CACHE]), t, m) else 0;
        if (avail == 0 or avail > cap) {
            if (t >= m) return CORRUPT;
            // Acquire: pairs with the producer's publishing store; the elements below it are written.
            const hc = @atomicLoad(u32, word(c + RING_HEAD), .acquire);
            if (hc >= m) return CORRUPT;
            st[HEAD_CACHE] = @bitCast(hc);
            avail = ringDist(hc, t, m);
            if (avail == 0 or avail > cap) {
                // Empty, or `t` was stale: confirm with a fresh tail before reporting.
                const fresh = @atomicLoad(u32, word(c + RING_TAIL), .seq_cst);
                if (fresh == t) {
                    if (avail == 0) {
                        st[LAST_TAIL] = @bitCast(t);
                        return NONE;
                    }
                    st[LAST_TAIL] = -1;
                    return CORRUPT; // head - tail beyond the capacity, tail unchanged: not a race
                }
                t = fresh;
                continue;
            }
        }
        e.take(ringSlot(d, size, t));
        const next = ringAdd(t, 1, m);
        // Commit (seq_cst, x86 `lock cmpxchg`): fails if the producer overwrote this
        // element or another consumer took it; then the value read is dropped.
        if (@cmpxchgStrong(u32, word(c + RING_TAIL), t, next, .seq_cst, .seq_cst)) |found| {
            t = found;
            continue;
        }
        st[LAST_TAIL] = @bitCast(next);
        // The CAS was a full fence, so the handshake's waiters load may follow it directly.
        wake(c + RING_NOT_FULL, true);
        return OK;
    }
}

/// Pushes the element staged at byte `from` of the handle's scratch block (the producer;
/// a value TypeScript has already checked). OK, NONE (full), CORRUPT or BADARG.
pub export fn shmkit_ring_push_bytes(state: f64, from: u32) i32 {
    const h = handleOf(state, RING_BOUND) orelse return BADARG;
    if (h.d.kind != BYTES) return BADARG;
    const e = bytesFrom(h.d, from) orelse return BADARG;
    return ringPut(h.d, h.st, h.d.size, e);
}

/// Pops the oldest element into the handle's scratch block (a consumer's CAS commit).
/// OK, NONE (empty), CORRUPT or BADARG.
pub export fn shmkit_ring_pop_bytes(state: f64) i32 {
    const h = handleOf(state, RING_BOUND) orelse return BADARG;
    if (h.d.kind != BYTES) return BADARG;
    const e = bytesOf(h.d);
    return ringTake(h.d, h.st, h.d.size, &e);
}

// ---------------------------------------------------------------------------------
// Queue (kind 3, Vyukov): control +0 u32 enqueue position, +8 eventcount not-empty;
// +64 u32 dequeue position, +72 eventcount not-full. `ring` slots of `stride` bytes
// at `data`: u32 sequence at +0, the element at `elem_off`. `layout` packs
// kind | elem_off << 8 | stride << 16 (numeric kinds: elem_off 4 or 8, stride ≤ 16).
//
// Claim records (docs/RELIABILITY.md "Claim records", src/structures/claim_records.ts):
// `rec` is the byte offset (from the mapping's base, 8-aligned, chosen by TypeScript
// from the handle's own record) of this process's record: i32 `pos` at +0, i32 `n` at
// +4. The protocol is word for word the one of Queue.tryPush / tryPop in queue.ts:
//   1. plain stores pos = p, then n = +1 (push) / -1 (pop);
//   2. the claiming CAS on the counter (seq_cst: the lemma needs the stores of 1 to be
//      visible to whoever reads the counter past p; on x86 `lock cmpxchg`);
//   3. the slot work, ending with the slot's sequence store (`store`: release, or seq_cst unregistered);
//   4. the store n = 0 (release: `clearRecord` below argues why); then the waiters
//      load of the wake handshake.
// A push that reports full, or a pop that reports empty, stores n = 0 (plain), as the
// TypeScript does. Where the TypeScript path would call a repair (vyukov_repair.ts: a
// last-lap slot whose consumer has claimed it, or an unpublished slot whose producer
// has claimed it), this returns SLOW before claiming anything, and Queue runs its
// TypeScript path, which owns the per-handle stall clock and the repairs.

// `clearRecord`: the one ordering weaker than the TypeScript's. Step 4 is a release
// store here (x86: a plain `mov`), where queue.ts uses Atomics.store (seq_cst, x86:
// `xchg`; JavaScript has nothing weaker). Measured: one locked instruction of the six a
// push+pop pair paid: 51 → 41 ns per pair in a native loop (docs/DECISIONS.md "Fast paths").
// Why it is enough: what the record protocol needs of step 4 is (i) n = 0 never becomes
// visible before the slot's sequence store of step 3 — a reader that sees n = 0 and then
// re-reads the sequence (skipDeadProducer, handBackDeadConsumer: the scan, then the
// sequence re-check, both seq_cst loads, at least acquire) must see step 3; release
// orders every earlier store (step 3 included) before it, so (i) holds; and (ii) n = 0
// never becomes visible after the next operation's step 1: stores from one thread
// become visible in program order under release → relaxed on x86 (TSO) and, in the
// model, the next step 1 stores are ordered before that operation's seq_cst CAS, which
// a scanner must read past before the record matters. A stale n = ±1 seen by a scanner
// only makes it wait (the claim looks live); it never makes it repair. The wake
// handshake is unaffected: step 3 is its publishing store (`store`), and `wake` runs
// after step 4; a release store between them weakens neither form of it.
// Stress: tests/fastpath.test.ts (Queue, Deno and Bun producers and consumers, exact
// count and sum) and tests/crash.test.ts ("SIGKILLed at random": repairs beside
// live native claims).

const ENQ = 0;
const DEQ = 64;
const PRODUCE: i32 = 1;
const CONSUME: i32 = -1;

inline fn diff(a: u32, b: u32) i32 {
    return @bitCast(a -% b);
}

// The dead-claim test of a poll that finds nothing. A pop at `pos` that finds the slot
// unpublished (sequence `pos`) cannot tell an empty queue from a producer that claimed
// `pos` and has not published yet, alive or dead (the TypeScript path's repair,
// skipDeadProducer); the enqueue counter past `pos` tells. But that counter's line is
// the one every push's CAS writes: read on every empty poll of a spinning consumer, it
// cost the producer a line transfer per poll, where Vyukov's consumer touches only the
// slots. Measured (`deno run -A bench/vs_c.ts --rounds 7 --only mpmc-1`, two runs each,
// interleaved; docs/DECISIONS.md "Fast paths"), Deno producer and Bun consumer, paired
// ratio to C: read on every poll 2.17-2.32x, never read 1.37-1.59x, at most once a
// microsecond 2.10-2.12x, at most once per CHECK_GAP (~25 µs) 1.52-1.64x. So an empty pop
//   (a) reads the counter unless this handle's last read was less than CHECK_GAP ticks
//       ago and found no claim: a poll that comes later than that after the last check,
//       as every poll of a consumer that is not spinning does, checks as before; a
//       spinning one checks about every 25 µs instead of every few nanoseconds;
//   (b) reads it whenever TypeScript has zeroed the handle's POP_CHECKED words: before a
//       blocking wait parks (stall_wait.ts `parkPoll`) and in `select`, so a waiter never
//       sleeps through a claim it has not seen (its holder, if dead, sends no wake-up);
//   (c) after a read that found a claim, reads it on every poll until one finds none.
// The answer for live processes is unchanged: NONE is what Vyukov's pop returns while a
// push is in progress. What it changes is how soon a spinning poller notices a dead
// claim: up to CHECK_GAP later, before the 2 ms stall clock runs as before. A full push
// is the mirror image (the dequeue counter past `pos - ring`; PUSH_CHECKED).

/// A time stamp that only has to be cheap and to grow: x86-64's TSC (`rdtsc`, ~9 ns on
/// the AMD VM of docs/BENCHMARKS.md, where `clock_gettime` costs ~20), aarch64's virtual
/// counter. Elsewhere 0 and CHECK_GAP 0: every poll checks, as before this gate.
inline fn ticks() u64 {
    switch (builtin.cpu.arch) {
        .x86_64 => {
            var lo: u32 = undefined;
            var hi: u32 = undefined;
            asm volatile ("rdtsc"
                : [lo] "={eax}" (lo),
                  [hi] "={edx}" (hi),
            );
            return (@as(u64, hi) << 32) | lo;
        },
        .aarch64 => return asm volatile ("mrs %[t], cntvct_el0"
            : [t] "=r" (-> u64),
        ),
        else => return 0,
    }
}

/// CHECK_GAP, about 25 µs of `ticks`: 2^16 TSC cycles (13-65 µs at 5-1 GHz; 25 µs on the
/// 2.6 GHz VM the measurements above come from); on aarch64 the counter's own frequency
/// (`cntfrq_el0`, 1 MHz to 1 GHz) over 2^15, ~30 µs.
inline fn checkGap() u64 {
    return switch (builtin.cpu.arch) {
        .x86_64 => 1 << 16,
        .aarch64 => (asm volatile ("mrs %[f], cntfrq_el0"
            : [f] "=r" (-> u64),
        )) >> 15,
        else => 0,
    };
}

inline fn checkedAt(st: [*]i32, at: usize) *align(4) u64 {
    return @ptrCast(st + at);
}

/// Whether this empty pop / full push reads the other side's counter (a-c above).
inline fn checkDue(st: [*]i32, at: usize) bool {
    const last = checkedAt(st, at).*;
    return last == 0 or ticks() -% last >= checkGap();
}

/// After a check: one that found a claim keeps every later poll checking (0), one that
/// found none dates itself. Returns `open`.
inline fn checked(st: [*]i32, at: usize, open: bool) bool {
    checkedAt(st, at).* = if (open) 0 else ticks() | 1;
    return open;
}

/// (b): what Queue's `#checkNext` does from TypeScript (the unit tests use it).
fn checkNext(st: [*]i32, at: usize) void {
    checkedAt(st, at).* = 0;
}

/// An empty pop at `pos`: may a producer hold `pos`? (Then the TypeScript path runs.)
inline fn producerClaimed(st: [*]i32, c: usize, pos: u32) bool {
    return checkDue(st, POP_CHECKED) and checked(st, POP_CHECKED, @atomicLoad(u32, word(c + ENQ), .seq_cst) != pos);
}

/// A full push at `pos`: may a consumer hold `pos - ring`?
inline fn consumerClaimed(st: [*]i32, c: usize, pos: u32, ring: u32) bool {
    return checkDue(st, PUSH_CHECKED) and checked(st, PUSH_CHECKED, diff(@atomicLoad(u32, word(c + DEQ), .seq_cst), pos -% ring) > 0);
}

/// Binds the state block at `state` to a Queue in the mapping at `base`: positions at
/// `ctrl`, `ring` slots (a power of two, 2 to 2^30) at `data`, `capacity` (1 to ring)
/// elements, `layout` = kind | elem_off << 8 | stride << 16 (kind BYTES: elements of
/// `size` bytes), this process's claim record at byte `rec`. `buf` (8-aligned, `buf_len`
/// of them): numeric kinds, the bulk calls' f64 values; BYTES, the scratch block,
/// `buf_len` bytes. The slots must lie in the mapping: TypeScript checks it. OK, or
/// BADARG with the block left unbound.
pub export fn shmkit_mpmc_bind(state: f64, base: f64, ctrl: u32, data: u32, ring: u32, capacity: u32, layout: u32, rec: u32, size: u32, buf: f64, buf_len: u32) i32 {
    const d = unbound(state) orelse return BADARG;
    const b = baseOf(base) orelse return BADARG;
    if (ring < 2 or ring & (ring - 1) != 0 or ring > 1 << 30 or capacity < 1 or capacity > ring) return BADARG;
    if (ctrl % 8 != 0 or rec % 8 != 0 or data % 4 != 0) return BADARG;
    const kind = layout & 0xff;
    const elem_off = (layout >> 8) & 0xff;
    const stride = layout >> 16;
    var bytes: u32 = undefined;
    if (kind < KINDS) {
        bytes = sizeOfKind(kind);
    } else if (kind == BYTES and size > 0 and buf_len >= size) {
        bytes = size;
    } else return BADARG;
    // The sequence word at +0, then the element inside the slot.
    if (stride % 4 != 0 or elem_off < 4 or elem_off + bytes > stride) return BADARG;
    const values = if (buf_len > 0) addressOf(buf, 8) orelse return BADARG else 0;
    d.* = .{
        .bound = 0,
        .kind = kind,
        .base = b,
        .buf = values,
        .ctrl = ctrl,
        .data = data,
        .slots = ring,
        .capacity = capacity,
        .elem_off = elem_off,
        .stride = stride,
        .size = bytes,
        .rec = rec,
        .buf_len = buf_len,
    };
    d.bound = MPMC_BOUND;
    return OK;
}

/// The claim record of the handle bound to `d`.
inline fn recordOf(d: *const Desc) [*]i32 {
    return @ptrFromInt(d.base + d.rec);
}

/// Queue's numeric calls for kind `k`, exported once per kind as SpscOf's.
fn MpmcOf(comptime k: Kind) type {
    return struct {
        /// Pushes `value`. A capacity below the ring means the element count is checked
        /// too (FORMAT.md). Returns OK, NONE (full), INVALID, SLOW (run the TypeScript
        /// path), CORRUPT (a sequence ahead of a position that does not move) or BADARG.
        fn push(state: f64, value: f64) callconv(.c) i32 {
            const h = handleOf(state, MPMC_BOUND) orelse return BADARG;
            if (h.d.kind != @intFromEnum(k)) return BADARG;
            // Validate before claiming: a claimed slot must always be published.
            return mpmcClaimPut(h.st, h.d, NumPut(k){ .x = encode(k, value) orelse return INVALID, .valid = true });
        }

        /// Pops one element. Returns it; NaN with the STATUS word of `state` set otherwise
        /// (as SpscOf.pop: OK for a NaN element, NONE empty, RANGE, CORRUPT, BADARG; and
        /// SLOW: run the TypeScript path, nothing was taken).
        fn pop(state: f64) callconv(.c) f64 {
            const h = handleOf(state, MPMC_BOUND) orelse return fail(state, BADARG);
            if (h.d.kind != @intFromEnum(k)) return fail(state, BADARG);
            var t = NumTake(k){};
            return popResult(h.st, mpmcClaimTake(h.st, h.d, &t), t);
        }
    };
}

/// Queue's push after its arguments and the element are checked: claims the next
/// position, has `e.put(address of the slot's element)` write the element (it cannot
/// fail), publishes and wakes. Shared by the numeric and the byte-copy pushes.
inline fn mpmcClaimPut(st: [*]i32, d: *const Desc, e: anytype) i32 {
    const b = d.base;
    const data = d.data;
    const ring = d.slots;
    const capacity = d.capacity;
    const elem_off = d.elem_off;
    const stride = d.stride;
    const r = recordOf(d);
    const c = b + d.ctrl;
    const mask = ring - 1;
    // Relaxed, as in Vyukov's code (the TypeScript reads it plainly): the sequence test
    // and the CAS decide.
    var pos = @atomicLoad(u32, word(c + ENQ), .monotonic);
    while (true) {
        const slot = b + data + @as(usize, pos & mask) * stride; // in range: pos & mask < ring
        // Acquire: pairs with the consumer's release of this slot (its sequence store
        // after reading the element), so our element write cannot overtake that read.
        const seq = @atomicLoad(u32, word(slot), .acquire);
        const dif = diff(seq, pos);
        if (dif == 0) {
            if (capacity != ring and diff(pos, @atomicLoad(u32, word(c + DEQ), .seq_cst)) >= @as(i32, @intCast(capacity))) {
                @atomicStore(i32, &r[1], 0, .monotonic);
                return NONE;
            }
            // Step 1: the record. Relaxed stores (x86: plain `mov`, what the TypeScript's
            // plain Int32Array stores are); the seq_cst CAS after them orders them first.
            @atomicStore(i32, &r[0], @bitCast(pos), .monotonic);
            @atomicStore(i32, &r[1], PRODUCE, .monotonic);
            // Step 2: the claim.
            if (@cmpxchgStrong(u32, word(c + ENQ), pos, pos +% 1, .seq_cst, .seq_cst)) |found| {
                pos = found;
                continue;
            }
            e.put(slot + elem_off); // validated before the claim
            const dk = dekker(c + NOT_EMPTY);
            store(slot, pos +% 1, dk); // step 3: publish (see `store`)
            @atomicStore(i32, &r[1], 0, .release); // step 4: the claim is over (release: see `clearRecord`)
            wake(c + NOT_EMPTY, dk);
            return OK;
        } else if (dif < 0) {
            // Last lap's element (dif = 1 - ring) or a repairer's skip (dif = -ring): full,
            // unless the consumer of pos - ring has claimed it (TypeScript path: it may
            // be dead; handBackDeadConsumer). Its first test, the same seq_cst load:
            if ((dif == -@as(i32, @intCast(ring)) or dif == 1 - @as(i32, @intCast(ring))) and
                consumerClaimed(st, c, pos, ring)) return SLOW;
            @atomicStore(i32, &r[1], 0, .monotonic);
            return NONE;
        } else {
            const now = @atomicLoad(u32, word(c + ENQ), .seq_cst);
            if (now == pos) return CORRUPT; // a sequence ahead of a position that did not move
            pos = now;
        }
    }
}

/// Queue's pop after its arguments are checked: claims the oldest position, has
/// `e.take(address of the slot's element)` read the element, hands the slot to the next
/// lap and wakes. OK, NONE (empty), SLOW or CORRUPT. Shared by the numeric and the
/// byte-copy pops.
inline fn mpmcClaimTake(st: [*]i32, d: *const Desc, e: anytype) i32 {
    const b = d.base;
    const data = d.data;
    const ring = d.slots;
    const elem_off = d.elem_off;
    const stride = d.stride;
    const r = recordOf(d);
    const c = b + d.ctrl;
    const mask = ring - 1;
    var pos = @atomicLoad(u32, word(c + DEQ), .monotonic);
    while (true) {
        const slot = b + data + @as(usize, pos & mask) * stride;
        // Acquire: pairs with the producer's publishing store of this sequence, which
        // follows its element write; so the element read below sees it.
        const seq = @atomicLoad(u32, word(slot), .acquire);
        const dif = diff(seq, pos +% 1);
        if (dif == 0) {
            @atomicStore(i32, &r[0], @bitCast(pos), .monotonic); // step 1
            @atomicStore(i32, &r[1], CONSUME, .monotonic);
            if (@cmpxchgStrong(u32, word(c + DEQ), pos, pos +% 1, .seq_cst, .seq_cst)) |found| { // step 2
                pos = found;
                continue;
            }
            e.take(slot + elem_off);
            const dk = dekker(c + NOT_FULL);
            store(slot, pos +% ring, dk); // step 3: hand the slot to the next lap, after the read (see `store`)
            @atomicStore(i32, &r[1], 0, .release); // step 4 (release: see `clearRecord`)
            wake(c + NOT_FULL, dk);
            return OK;
        } else if (dif < 0) {
            // Unpublished: empty, unless a producer has claimed pos (the enqueue counter
            // is past it): it may be dead, TypeScript path (skipDeadProducer, whose first
            // test is this same seq_cst load).
            if (dif == -1 and producerClaimed(st, c, pos)) return SLOW;
            @atomicStore(i32, &r[1], 0, .monotonic);
            return NONE;
        } else {
            const now = @atomicLoad(u32, word(c + DEQ), .seq_cst);
            if (now == pos) return CORRUPT;
            pos = now;
        }
    }
}

// ---------------------------------------------------------------------------------
// Queue of any element type (structs, fixed strings): the element's bytes cross through
// a process-private scratch block of `size` bytes that TypeScript owns (Queue stages
// and checks a value there with the type's own `write`, and reads one back with its
// `read` / `readInto`), so one call claims, copies and publishes, as the numeric calls
// do. `layout` is elem_off << 8 | stride << 16 (its kind byte is ignored); `size` must
// fit the slot (elem_off + size <= stride): BADARG otherwise. Same claim records, same
// orderings, same hostile-segment argument as the numeric calls (the copy stays inside
// the slot, whose address is `pos & (ring - 1)` below `ring`).

/// Pushes the element staged at byte `from` of the handle's scratch block (a value
/// TypeScript has already checked). OK, NONE (full), SLOW, CORRUPT or BADARG, as
/// shmkit_mpmc_push.
pub export fn shmkit_mpmc_push_bytes(state: f64, from: u32) i32 {
    const h = handleOf(state, MPMC_BOUND) orelse return BADARG;
    if (h.d.kind != BYTES) return BADARG;
    const e = bytesFrom(h.d, from) orelse return BADARG;
    return mpmcClaimPut(h.st, h.d, e);
}

/// Pops the oldest element into the handle's scratch block. OK, NONE (empty), SLOW,
/// CORRUPT or BADARG, as shmkit_mpmc_pop's status.
pub export fn shmkit_mpmc_pop_bytes(state: f64) i32 {
    const h = handleOf(state, MPMC_BOUND) orelse return BADARG;
    if (h.d.kind != BYTES) return BADARG;
    const e = bytesOf(h.d);
    return mpmcClaimTake(h.st, h.d, &e);
}

// ---------------------------------------------------------------------------------
// Queue bulk operations (Queue.pushBulk / popBulk, src/structures/queue_bulk.ts): runs
// of positions claimed with one CAS each, the whole run named in the claim record,
// step for step as queue_bulk.ts does it:
//   1. plain stores pos = p, then n = +k (push) / -k (pop);
//   2. the claiming CAS p -> p + k on the counter (seq_cst, as in the single calls);
//   3. for each position of the run: the element, then the slot's sequence store;
//   4. the store n = 0 (release, as `clearRecord` argues), after every sequence store
//      of the run; then the next run, or the end, where n = 0 is stored once more (a
//      failed CAS may have left the record naming someone else's claim, as in the
//      TypeScript).
// Where queue_bulk.ts would call a repair (the `dif < 0` cases that SLOW marks in the
// single calls) these stop before claiming and return SLOW with what they did in
// state[DONE]; Queue then runs queue_bulk.ts for the rest (it owns the stall clock and
// the repairs). A run is never left half done: SLOW only ever stops between runs.
//
// Values cross as f64 (a Float64Array the caller owns, `buf`, 8-aligned): the same
// `encode` / `decode` as the single calls, so a bulk push accepts and refuses exactly
// what tryPush does (a buffer of the element's own type would have to be filled by a
// typed-array store, which wraps 300 into a u8 instead of refusing it), and the 64-bit
// "as number" kinds, which have no typed array of numbers, work too.
//
// Orderings, the one place these differ from the single calls: the per-slot sequence
// stores are release (x86: plain `mov`; Vyukov's and the C baseline's ordering: it
// pairs with the other side's acquire load of the sequence), not seq_cst. The single
// calls, unregistered, make their sequence store seq_cst for the wake handshake (`store`);
// here one seq_cst read-modify-write of the eventcount's `waiters` after the whole run
// (`wakeAfterRelease`) is that handshake, for any number of sequence stores, and it is
// sound in the model without reference to the waiter's re-check ordering: the waiter's
// `waiters += 1` is a seq_cst RMW too, so the two RMWs are ordered in `waiters`'
// modification order; if ours is later, it reads >= 1 and wakes; if ours is earlier,
// theirs reads from ours (release → acquire), so every sequence store of the run
// happens before the waiter's re-check, which sees the elements and does not park. One
// `lock xadd` per call instead of one `xchg` per element (measured: docs/DECISIONS.md
// "Fast paths"). What the claim-record lemma needs of the sequence stores is unchanged:
// step 4's release store orders all of them before n = 0 (a scanner that reads n = 0,
// acquire, then re-reads a sequence sees the store), and n = ±k is stored before the
// CAS exactly as before.
//
// Hostile segments: as the single calls (every slot address is `pos & (ring - 1)`
// below `ring`, an argument), and no loop spins on static bytes: a run count is at most
// min(count, ring) per claim, a failed CAS means another process moved the counter,
// and a sequence "ahead" of a counter that has not moved is CORRUPT.

/// Pushes `count` f64 values from the handle's value buffer, in order, as
/// Queue.pushBulk does; stops when the queue is full. Every value is checked first:
/// INVALID with the index of the first bad one in state[DONE], nothing pushed. Returns
/// how many were pushed (all, or fewer when full), or a negative code with how many were
/// pushed first in state[DONE]: SLOW (the next position needs the TypeScript path),
/// CORRUPT, BADARG (also for more values than the buffer holds).
pub export fn shmkit_mpmc_push_bulk(state: f64, count: u32) i32 {
    const h = handleOf(state, MPMC_BOUND) orelse return BADARG;
    h.st[DONE] = 0;
    if (h.d.kind >= KINDS or count > h.d.buf_len) return BADARG;
    return switch (@as(Kind, @enumFromInt(h.d.kind))) {
        inline else => |k| mpmcPushBulk(k, h.st, h.d, count),
    };
}

inline fn mpmcPushBulk(comptime k: Kind, st: [*]i32, d: *const Desc, count: u32) i32 {
    const b = d.base;
    const r = recordOf(d);
    const src: [*]const f64 = @ptrFromInt(d.buf);
    const data = d.data;
    const ring = d.slots;
    const capacity = d.capacity;
    const elem_off = d.elem_off;
    const stride = d.stride;
    // Validate before claiming: a claimed slot must always be published.
    var i: u32 = 0;
    while (i < count) : (i += 1) {
        if (encode(k, src[i]) == null) {
            st[DONE] = @bitCast(i);
            return INVALID;
        }
    }
    const c = b + d.ctrl;
    const mask = ring - 1;
    var done: u32 = 0;
    var code: i32 = OK;
    var pos = @atomicLoad(u32, word(c + ENQ), .monotonic);
    while (done < count) {
        const want = @min(count - done, ring);
        var n: u32 = 0;
        var dif: i32 = 0;
        while (n < want) : (n += 1) {
            const p = pos +% n;
            // Acquire: pairs with the consumer's release of this slot (as mpmcPush).
            dif = diff(@atomicLoad(u32, word(b + data + @as(usize, p & mask) * stride), .acquire), p);
            if (dif != 0) break;
        }
        if (n == 0) {
            if (dif < 0) {
                // As mpmcPush: full, unless the consumer of pos - ring has claimed it
                // (it may be dead: the TypeScript path's handBackDeadConsumer).
                if ((dif == -@as(i32, @intCast(ring)) or dif == 1 - @as(i32, @intCast(ring))) and
                    consumerClaimed(st, c, pos, ring)) code = SLOW;
                break;
            }
            const now = @atomicLoad(u32, word(c + ENQ), .seq_cst);
            if (now == pos) {
                code = CORRUPT; // a sequence ahead of a position that did not move
                break;
            }
            pos = now;
            continue;
        }
        if (capacity != ring) {
            const used = diff(pos, @atomicLoad(u32, word(c + DEQ), .seq_cst));
            const room = @as(i64, capacity) - used;
            if (room <= 0) break;
            if (room < n) n = @intCast(room);
        }
        // Step 1: the record names the whole run [pos, pos + n).
        @atomicStore(i32, &r[0], @bitCast(pos), .monotonic);
        @atomicStore(i32, &r[1], @intCast(n), .monotonic);
        // Step 2: the claim.
        if (@cmpxchgStrong(u32, word(c + ENQ), pos, pos +% n, .seq_cst, .seq_cst)) |found| {
            pos = found;
            continue;
        }
        // Step 3: the elements, each published by its sequence (release: see above).
        var j: u32 = 0;
        while (j < n) : (j += 1) {
            const p = pos +% j;
            const slot = b + data + @as(usize, p & mask) * stride;
            elemAt(k, slot + elem_off).* = encode(k, src[done + j]).?; // validated above
            @atomicStore(u32, word(slot), p +% 1, .release);
        }
        @atomicStore(i32, &r[1], 0, .release); // step 4: the run's claim is over
        done += n;
        pos +%= n;
    }
    @atomicStore(i32, &r[1], 0, .monotonic);
    if (done > 0) wakeAfterRelease(c + NOT_EMPTY, done);
    if (code == OK) return @bitCast(done);
    st[DONE] = @bitCast(done);
    return code;
}

/// Pops up to `max` elements into the handle's value buffer (as f64), oldest first, as
/// Queue.popBulk does; stops when the queue is empty. Returns how many were popped, or a
/// negative code with how many were popped first in state[DONE]: SLOW (the next position
/// needs the TypeScript path), CORRUPT, BADARG (also for more than the buffer holds). A
/// 64-bit element beyond ±(2^53 - 1) is consumed and given as NaN, counted in
/// state[BULK_RANGE] (the caller reports OUT_OF_RANGE).
pub export fn shmkit_mpmc_pop_bulk(state: f64, max: u32) i32 {
    const h = handleOf(state, MPMC_BOUND) orelse return BADARG;
    h.st[DONE] = 0;
    h.st[BULK_RANGE] = 0;
    if (h.d.kind >= KINDS or max > h.d.buf_len) return BADARG;
    return switch (@as(Kind, @enumFromInt(h.d.kind))) {
        inline else => |k| mpmcPopBulk(k, h.st, h.d, max),
    };
}

inline fn mpmcPopBulk(comptime k: Kind, st: [*]i32, d: *const Desc, max: u32) i32 {
    const b = d.base;
    const r = recordOf(d);
    const dst: [*]f64 = @ptrFromInt(d.buf);
    const data = d.data;
    const ring = d.slots;
    const elem_off = d.elem_off;
    const stride = d.stride;
    const c = b + d.ctrl;
    const mask = ring - 1;
    var got: u32 = 0;
    var ranged: i32 = 0;
    var code: i32 = OK;
    var pos = @atomicLoad(u32, word(c + DEQ), .monotonic);
    while (got < max) {
        const want = @min(max - got, ring);
        var n: u32 = 0;
        var dif: i32 = 0;
        while (n < want) : (n += 1) {
            const p = pos +% n;
            // Acquire: pairs with the producer's release of this sequence (after its element write).
            dif = diff(@atomicLoad(u32, word(b + data + @as(usize, p & mask) * stride), .acquire), p +% 1);
            if (dif != 0) break;
        }
        if (n == 0) {
            if (dif < 0) {
                // As mpmcPop: empty, unless a producer has claimed pos (it may be dead:
                // the TypeScript path's skipDeadProducer).
                if (dif == -1 and producerClaimed(st, c, pos)) code = SLOW;
                break;
            }
            const now = @atomicLoad(u32, word(c + DEQ), .seq_cst);
            if (now == pos) {
                code = CORRUPT;
                break;
            }
            pos = now;
            continue;
        }
        @atomicStore(i32, &r[0], @bitCast(pos), .monotonic); // step 1
        @atomicStore(i32, &r[1], -@as(i32, @intCast(n)), .monotonic);
        if (@cmpxchgStrong(u32, word(c + DEQ), pos, pos +% n, .seq_cst, .seq_cst)) |found| { // step 2
            pos = found;
            continue;
        }
        var j: u32 = 0;
        while (j < n) : (j += 1) { // step 3: read, then hand the slot to the next lap
            const p = pos +% j;
            const slot = b + data + @as(usize, p & mask) * stride;
            var range = false;
            const v = decode(k, elemAt(k, slot + elem_off).*, &range);
            if (range) ranged += 1;
            dst[got + j] = if (range) std.math.nan(f64) else v;
            @atomicStore(u32, word(slot), p +% ring, .release);
        }
        @atomicStore(i32, &r[1], 0, .release); // step 4
        got += n;
        pos +%= n;
    }
    @atomicStore(i32, &r[1], 0, .monotonic);
    st[BULK_RANGE] = ranged;
    if (got > 0) wakeAfterRelease(c + NOT_FULL, got);
    if (code == OK) return @bitCast(got);
    st[DONE] = @bitCast(got);
    return code;
}

/// An empty call, for benchmarks: the FFI overhead alone, measured in the same run.
pub export fn shmkit_noop() void {}

/// For benchmarks: `pairs` push+pop pairs of the SPSC fast path in a native loop (the
/// same code with no FFI crossing: what a C program calling it would pay), on the queue
/// the block at `state` is bound to (a numeric kind). Returns the sum popped, or NaN on
/// any failure.
pub export fn shmkit_bench_spsc_pairs(state: f64, pairs: u32) f64 {
    const h = handleOf(state, SPSC_BOUND) orelse return std.math.nan(f64);
    if (h.d.kind >= KINDS) return std.math.nan(f64);
    return switch (@as(Kind, @enumFromInt(h.d.kind))) {
        inline else => |k| benchPairs(SpscOf(k), state, pairs),
    };
}

/// For benchmarks: as shmkit_bench_spsc_pairs, on the MPMC fast path.
pub export fn shmkit_bench_mpmc_pairs(state: f64, pairs: u32) f64 {
    const h = handleOf(state, MPMC_BOUND) orelse return std.math.nan(f64);
    if (h.d.kind >= KINDS) return std.math.nan(f64);
    return switch (@as(Kind, @enumFromInt(h.d.kind))) {
        inline else => |k| benchPairs(MpmcOf(k), state, pairs),
    };
}

fn benchPairs(comptime Q: type, state: f64, pairs: u32) f64 {
    var sum: f64 = 0;
    var i: u32 = 0;
    while (i < pairs) : (i += 1) {
        if (@call(.never_inline, Q.push, .{ state, @as(f64, @floatFromInt(i)) }) != OK) return std.math.nan(f64);
        sum += @call(.never_inline, Q.pop, .{state});
    }
    return sum;
}

// ---------------------------------------------------------------------------------

fn addrOf(p: anytype) f64 {
    return @floatFromInt(@intFromPtr(p));
}

/// A zeroed state block for the tests, and the address of it.
const F64 = SpscOf(.f64);
const M64 = MpmcOf(.f64);

const TestState = struct {
    words: [STATE_BYTES / 8]u64 align(8) = [_]u64{0} ** (STATE_BYTES / 8),
    fn at(self: *TestState) f64 {
        return addrOf(&self.words);
    }
    fn i32s(self: *TestState) [*]i32 {
        return @ptrCast(&self.words);
    }
};

test "spsc push and pop, full and empty, kinds" {
    var mem: [64 + 128 + 4 * 8]u8 align(64) = [_]u8{0} ** (64 + 128 + 4 * 8);
    var ts = TestState{};
    const b = addrOf(&mem);
    const s = ts.at();
    const st = ts.i32s();
    // capacity 3: 4 slots of f64 at 128
    try std.testing.expectEqual(OK, shmkit_spsc_bind(s, b, 0, 128, 4, 7, 0, 0, 0));
    try std.testing.expectEqual(OK, F64.push(s, 1.5));
    try std.testing.expectEqual(OK, F64.push(s, 2.5));
    try std.testing.expectEqual(OK, F64.push(s, std.math.nan(f64)));
    try std.testing.expectEqual(NONE, F64.push(s, 4));
    try std.testing.expectEqual(@as(f64, 1.5), F64.pop(s));
    try std.testing.expectEqual(@as(f64, 2.5), F64.pop(s));
    st[STATUS] = 99;
    try std.testing.expect(std.math.isNan(F64.pop(s)));
    try std.testing.expectEqual(OK, st[STATUS]);
    try std.testing.expect(std.math.isNan(F64.pop(s)));
    try std.testing.expectEqual(NONE, st[STATUS]);
    // integer kinds validate
    try std.testing.expectEqual(OK, shmkit_spsc_bind(s, b, 0, 128, 4, 1, 0, 0, 0));
    try std.testing.expectEqual(INVALID, SpscOf(.u8).push(s, 256));
    try std.testing.expectEqual(OK, shmkit_spsc_bind(s, b, 0, 128, 4, 4, 0, 0, 0));
    try std.testing.expectEqual(INVALID, SpscOf(.i32).push(s, 0.5));
    try std.testing.expectEqual(OK, shmkit_spsc_bind(s, b, 0, 128, 4, 9, 0, 0, 0));
    try std.testing.expectEqual(INVALID, SpscOf(.u64n).push(s, -1));
    try std.testing.expectEqual(BADARG, F64.push(s, 1)); // bound for another kind
    try std.testing.expectEqual(OK, SpscOf(.u64n).push(s, 9007199254740991));
    try std.testing.expectEqual(@as(f64, 9007199254740991), SpscOf(.u64n).pop(s));
    // the byte calls move `size` bytes through the scratch block
    var scratch: [2]u64 = .{ 0x1122334455667788, 0x99aabbccddeeff00 };
    try std.testing.expectEqual(BADARG, shmkit_spsc_bind(s, b, 0, 128, 4, BYTES, 8, addrOf(&scratch), 7)); // smaller than one element
    try std.testing.expectEqual(OK, shmkit_spsc_bind(s, b, 0, 128, 4, BYTES, 8, addrOf(&scratch), 16));
    try std.testing.expectEqual(BADARG, F64.push(s, 1)); // bound for bytes
    try std.testing.expectEqual(OK, shmkit_spsc_push_bytes(s, 0));
    try std.testing.expectEqual(OK, shmkit_spsc_push_bytes(s, 8)); // the second copy (a staging view's)
    // a source that would leave the scratch block is refused, nothing pushed
    for ([_]u32{ 9, 16, 0xffff_fff9, 0xffff_ffff }) |from| try std.testing.expectEqual(BADARG, shmkit_spsc_push_bytes(s, from));
    scratch = .{ 0, 0 };
    try std.testing.expectEqual(OK, shmkit_spsc_pop_bytes(s));
    try std.testing.expectEqual(@as(u64, 0x1122334455667788), scratch[0]);
    try std.testing.expectEqual(OK, shmkit_spsc_pop_bytes(s));
    try std.testing.expectEqual(@as(u64, 0x99aabbccddeeff00), scratch[0]);
    try std.testing.expectEqual(@as(u64, 0), scratch[1]); // pops fill the first copy only
    try std.testing.expectEqual(NONE, shmkit_spsc_pop_bytes(s));
}

test "spsc: hostile indices are CORRUPT, never an access; bad bindings are BADARG" {
    var mem: [64 + 128 + 4 * 8]u8 align(64) = [_]u8{0} ** (64 + 128 + 4 * 8);
    var ts = TestState{};
    const b = addrOf(&mem);
    const s = ts.at();
    const st = ts.i32s();
    const w: *u32 = @ptrCast(@alignCast(&mem[0]));
    const r: *u32 = @ptrCast(@alignCast(&mem[64]));
    try std.testing.expectEqual(BADARG, F64.push(s, 1)); // never bound
    try std.testing.expect(std.math.isNan(F64.pop(s)));
    try std.testing.expectEqual(BADARG, st[STATUS]);
    try std.testing.expectEqual(OK, shmkit_spsc_bind(s, b, 0, 128, 4, 7, 0, 0, 0));
    w.* = 4;
    try std.testing.expectEqual(CORRUPT, F64.push(s, 1));
    w.* = 0xffff_ffff;
    try std.testing.expectEqual(CORRUPT, F64.push(s, 1));
    st[CACHED_WRITE] = 0; // r == cached: a reload of the hostile write index
    try std.testing.expect(std.math.isNan(F64.pop(s)));
    try std.testing.expectEqual(CORRUPT, st[STATUS]);
    w.* = 0;
    r.* = 1_000_000;
    try std.testing.expect(std.math.isNan(F64.pop(s)));
    try std.testing.expectEqual(CORRUPT, st[STATUS]);
    st[CACHED_READ] = 1; // next == cached: reload the hostile read index
    try std.testing.expectEqual(CORRUPT, F64.push(s, 1));
    try std.testing.expectEqual(BADARG, shmkit_spsc_push_bytes(s, 0)); // bound for numbers
    // a refused bind leaves the block unbound
    try std.testing.expectEqual(BADARG, shmkit_spsc_bind(s, b + 1, 0, 128, 4, 7, 0, 0, 0));
    try std.testing.expectEqual(BADARG, F64.push(s, 1));
    try std.testing.expectEqual(BADARG, shmkit_spsc_bind(s, b, 0, 128, 4, 11, 0, 0, 0));
    try std.testing.expectEqual(BADARG, shmkit_spsc_bind(s, b, 0, 128, 1, 7, 0, 0, 0));
    try std.testing.expectEqual(BADARG, shmkit_spsc_bind(s, b, 4, 128, 4, 7, 0, 0, 0));
    try std.testing.expectEqual(BADARG, shmkit_spsc_bind(s, b, 0, 128, 4, BYTES, 0, s, 8));
    try std.testing.expectEqual(BADARG, shmkit_spsc_bind(s, b, 0, 128, 4, BYTES, 8, s + 4, 8));
    try std.testing.expectEqual(BADARG, shmkit_spsc_bind(s + 4, b, 0, 128, 4, 7, 0, 0, 0));
}

test "mpmc push and pop, hostile sequences, claim records" {
    // ring 4 of stride 16 (seq + f64 at 8) at 128, a claim record at 192
    var mem: [128 + 4 * 16 + 64]u8 align(64) = [_]u8{0} ** (128 + 4 * 16 + 64);
    var ts = TestState{};
    const b = addrOf(&mem);
    const s = ts.at();
    const st = ts.i32s();
    var values = [_]f64{0} ** 8;
    const vs = addrOf(&values);
    const REC: u32 = 192;
    const rec: *[2]i32 = @ptrCast(@alignCast(&mem[REC]));
    const seqs: *[16]u32 = @ptrCast(@alignCast(&mem[128]));
    for (0..4) |i| seqs[i * 4] = @intCast(i);
    const lay: u32 = 7 | 8 << 8 | 16 << 16;
    try std.testing.expectEqual(BADARG, M64.push(s, 1)); // never bound
    try std.testing.expectEqual(OK, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, lay, REC, 0, vs, 8));
    for (0..4) |i| {
        rec[1] = 99;
        try std.testing.expectEqual(OK, M64.push(s, @floatFromInt(i)));
        try std.testing.expectEqual(@as(i32, @intCast(i)), rec[0]); // the record named the position
        try std.testing.expectEqual(@as(i32, 0), rec[1]); // and was cleared after the publish
    }
    try std.testing.expectEqual(NONE, M64.push(s, 9));
    for (0..4) |i| try std.testing.expectEqual(@as(f64, @floatFromInt(i)), M64.pop(s));
    try std.testing.expectEqual(@as(i32, 3), rec[0]);
    try std.testing.expectEqual(@as(i32, 0), rec[1]);
    try std.testing.expect(std.math.isNan(M64.pop(s)));
    try std.testing.expectEqual(NONE, st[STATUS]);
    // a producer claimed position 4 and did not publish: SLOW (the TypeScript path), nothing
    // taken, from the first poll that reads the enqueue counter: within CHECK_GAP of the
    // last read (the empty pop above found no claim), none does, unless TypeScript asks
    const enq: *u32 = @ptrCast(@alignCast(&mem[0]));
    const deq: *u32 = @ptrCast(@alignCast(&mem[64]));
    enq.* = 5;
    if (checkGap() > 0) {
        // Timed: a preemption between the stamp and the poll may make it check; one of a
        // thousand tries must not.
        var quiet = false;
        for (0..1000) |_| {
            _ = checked(st, POP_CHECKED, false);
            try std.testing.expect(std.math.isNan(M64.pop(s)));
            if (st[STATUS] == NONE) {
                quiet = true;
                break;
            }
        }
        try std.testing.expect(quiet);
    }
    checkNext(st, POP_CHECKED);
    try std.testing.expect(std.math.isNan(M64.pop(s)));
    try std.testing.expectEqual(SLOW, st[STATUS]);
    try std.testing.expect(std.math.isNan(M64.pop(s))); // a check that found a claim: every poll checks
    try std.testing.expectEqual(SLOW, st[STATUS]);
    try std.testing.expectEqual(@as(u32, 4), deq.*);
    enq.* = 4;
    // full, and a consumer of last lap's position claimed but did not hand back: SLOW
    for (0..4) |i| try std.testing.expectEqual(OK, M64.push(s, @floatFromInt(i)));
    try std.testing.expectEqual(NONE, M64.push(s, 9));
    deq.* += 1;
    checkNext(st, PUSH_CHECKED);
    try std.testing.expectEqual(SLOW, M64.push(s, 9));
    deq.* -= 1;
    for (0..4) |_| _ = M64.pop(s);
    // capacity 3 in a ring of 4: the count bounds it
    try std.testing.expectEqual(OK, shmkit_mpmc_bind(s, b, 0, 128, 4, 3, lay, REC, 0, vs, 8));
    for (0..3) |i| try std.testing.expectEqual(OK, M64.push(s, @floatFromInt(i)));
    try std.testing.expectEqual(NONE, M64.push(s, 9));
    try std.testing.expectEqual(OK, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, lay, REC, 0, vs, 8));
    // a sequence ahead of a position that never moves: CORRUPT, not an endless loop
    seqs[(enq.* & 3) * 4] = enq.* + 1000;
    try std.testing.expectEqual(CORRUPT, M64.push(s, 1));
    seqs[(deq.* & 3) * 4] = deq.* + 50;
    try std.testing.expect(std.math.isNan(M64.pop(s)));
    try std.testing.expectEqual(CORRUPT, st[STATUS]);
    // bindings that would put an access outside the slots are refused
    try std.testing.expectEqual(BADARG, shmkit_mpmc_bind(s, b, 0, 128, 3, 3, lay, REC, 0, vs, 8)); // ring not a power of two
    try std.testing.expectEqual(BADARG, M64.push(s, 1)); // and the block is unbound
    try std.testing.expectEqual(BADARG, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, lay, REC + 4, 0, vs, 8));
    try std.testing.expectEqual(BADARG, shmkit_mpmc_bind(s, b, 0, 128, 4, 5, lay, REC, 0, vs, 8));
    try std.testing.expectEqual(BADARG, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, 7 | 12 << 8 | 16 << 16, REC, 0, vs, 8)); // f64 past the slot
    try std.testing.expectEqual(BADARG, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, 7 | 0 << 8 | 16 << 16, REC, 0, vs, 8)); // over the sequence
    try std.testing.expectEqual(BADARG, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, BYTES | 4 << 8 | 16 << 16, REC, 16, vs, 64)); // 16 bytes at 4 leave the slot
    try std.testing.expectEqual(BADARG, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, BYTES | 4 << 8 | 16 << 16, REC, 12, vs, 8)); // scratch too small
}

test "mpmc byte calls: any element type through the scratch block" {
    var mem: [128 + 4 * 16 + 64]u8 align(64) = [_]u8{0} ** (128 + 4 * 16 + 64);
    var ts = TestState{};
    const b = addrOf(&mem);
    const s = ts.at();
    var scratch = [2]u64{ 0, 0 };
    const seqs: *[16]u32 = @ptrCast(@alignCast(&mem[128]));
    for (0..4) |i| seqs[i * 4] = @intCast(i);
    try std.testing.expectEqual(OK, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, BYTES | 4 << 8 | 16 << 16, 192, 12, addrOf(&scratch), 16));
    try std.testing.expectEqual(BADARG, M64.push(s, 1)); // bound for bytes
    try std.testing.expectEqual(BADARG, shmkit_mpmc_push_bytes(s, 5)); // 12 bytes at 5 leave the 16 of scratch
    try std.testing.expectEqual(BADARG, shmkit_mpmc_push_bytes(s, 0xffff_fffc));
    for (0..5) |i| {
        scratch = .{ 0x0102030405060708 *% (i + 1), 0xaabbccdd +% i };
        try std.testing.expectEqual(if (i < 4) OK else NONE, shmkit_mpmc_push_bytes(s, 0));
    }
    for (0..4) |i| {
        scratch = .{ 0, 0 };
        try std.testing.expectEqual(OK, shmkit_mpmc_pop_bytes(s));
        try std.testing.expectEqual(@as(u64, 0x0102030405060708 *% (i + 1)), scratch[0]);
        try std.testing.expectEqual(@as(u64, 0xaabbccdd +% i), scratch[1] & 0xffff_ffff); // 12 bytes moved
    }
    try std.testing.expectEqual(NONE, shmkit_mpmc_pop_bytes(s));
}

test "ring push and pop: full, empty, wrap at the modulus, the epoch, caches across another handle's moves" {
    var mem: [128 + 4 * 8]u8 align(64) = [_]u8{0} ** (128 + 4 * 8);
    var ta = TestState{};
    var tb = TestState{};
    const b = addrOf(&mem);
    const P = RingOf(.f64);
    const head: *i32 = @ptrCast(@alignCast(&mem[0]));
    const epoch: *i32 = @ptrCast(@alignCast(&mem[4]));
    const tail: *i32 = @ptrCast(@alignCast(&mem[64]));
    // capacity 4, positions wrap at 8 (half 4): slots at 128
    try std.testing.expectEqual(OK, shmkit_ring_bind(ta.at(), b, 0, 128, 4, 8, 7, 0, 0, 0));
    try std.testing.expectEqual(OK, shmkit_ring_bind(tb.at(), b, 0, 128, 4, 8, 7, 0, 0, 0));
    var next: f64 = 0;
    var want: f64 = 0;
    for (0..5) |round| {
        while (P.push(ta.at(), next) == OK) next += 1;
        try std.testing.expectEqual(@as(f64, 4), next - want); // capacity elements fit
        try std.testing.expectEqual(NONE, P.push(ta.at(), next));
        // two consumers (two handles) take turns: each sees the other's commits
        for (0..4) |i| {
            const s = if ((i + round) % 2 == 0) ta.at() else tb.at();
            try std.testing.expectEqual(want, P.pop(s));
            want += 1;
        }
        try std.testing.expect(std.math.isNan(P.pop(tb.at())));
        try std.testing.expectEqual(NONE, tb.i32s()[STATUS]);
    }
    // 20 elements pushed: the head wrapped at 8 twice and a half more; the epoch counts half-crossings
    try std.testing.expectEqual(@as(i32, 20 % 8), head.*);
    try std.testing.expectEqual(@as(i32, 20 / 4), epoch.*);
    try std.testing.expectEqual(head.*, tail.*);
    // NaN is an element; u8 checks its values
    try std.testing.expectEqual(OK, P.push(ta.at(), std.math.nan(f64)));
    try std.testing.expect(std.math.isNan(P.pop(ta.at())));
    try std.testing.expectEqual(OK, ta.i32s()[STATUS]);
    var tc = TestState{};
    try std.testing.expectEqual(OK, shmkit_ring_bind(tc.at(), b, 0, 128, 4, 8, 1, 0, 0, 0));
    try std.testing.expectEqual(BADARG, P.push(tc.at(), 1)); // bound for another kind
    try std.testing.expectEqual(INVALID, RingOf(.u8).push(tc.at(), 256));
    try std.testing.expectEqual(OK, RingOf(.u8).push(tc.at(), 255));
    try std.testing.expectEqual(@as(f64, 255), RingOf(.u8).pop(tc.at()));
}

test "ring byte calls: 12-byte elements through the scratch block, full, empty, wrap, two consumers, hostile positions" {
    var mem: [128 + 3 * 12 + 4]u8 align(64) = [_]u8{0} ** (128 + 3 * 12 + 4);
    var ta = TestState{};
    var tb = TestState{};
    const b = addrOf(&mem);
    var sa = [4]u64{ 0, 0, 0, 0 }; // two copies of 16 (12 rounded up to 8)
    var sb = [2]u64{ 0, 0 };
    const head: *i32 = @ptrCast(@alignCast(&mem[0]));
    const tail: *i32 = @ptrCast(@alignCast(&mem[64]));
    try std.testing.expectEqual(BADARG, shmkit_ring_bind(ta.at(), b, 0, 128, 3, 6, BYTES, 12, addrOf(&sa), 8)); // smaller than one element
    try std.testing.expectEqual(BADARG, shmkit_ring_bind(ta.at(), b, 0, 128, 3, 6, BYTES, 0, addrOf(&sa), 32));
    try std.testing.expectEqual(OK, shmkit_ring_bind(ta.at(), b, 0, 128, 3, 6, BYTES, 12, addrOf(&sa), 32));
    try std.testing.expectEqual(OK, shmkit_ring_bind(tb.at(), b, 0, 128, 3, 6, BYTES, 12, addrOf(&sb), 16));
    try std.testing.expectEqual(BADARG, RingOf(.f64).push(ta.at(), 1)); // bound for bytes
    try std.testing.expectEqual(BADARG, shmkit_ring_push_bytes(ta.at(), 21)); // 12 bytes at 21 leave the 32
    var want: u64 = 0;
    var next: u64 = 0;
    for (0..4) |round| { // 12 elements through 3 slots: positions wrap at 6 twice
        while (true) {
            sa[2] = 0x0102030405060708 *% (next + 1); // the second copy, as a staging view keeps it
            sa[3] = 0xaabbccdd +% next;
            const rc = shmkit_ring_push_bytes(ta.at(), 16);
            if (rc == NONE) break;
            try std.testing.expectEqual(OK, rc);
            next += 1;
        }
        try std.testing.expectEqual(@as(u64, 3), next - want);
        for (0..3) |i| {
            const use_a = (i + round) % 2 == 0;
            const got: *[2]u64 = if (use_a) sa[0..2] else &sb;
            got.* = .{ 0, 0 };
            try std.testing.expectEqual(OK, if (use_a) shmkit_ring_pop_bytes(ta.at()) else shmkit_ring_pop_bytes(tb.at()));
            try std.testing.expectEqual(0x0102030405060708 *% (want + 1), got[0]);
            try std.testing.expectEqual(@as(u64, 0xaabbccdd +% want), got[1] & 0xffff_ffff); // 12 bytes moved
            try std.testing.expectEqual(@as(u64, 0), got[1] >> 32);
            want += 1;
        }
        try std.testing.expectEqual(NONE, shmkit_ring_pop_bytes(tb.at()));
    }
    try std.testing.expectEqual(@as(i32, 12 % 6), head.*);
    for (mem[128 + 36 ..]) |x| try std.testing.expectEqual(@as(u8, 0), x); // nothing past the three slots
    // hostile positions: CORRUPT before any access
    for ([_]i32{ 6, -1, std.math.maxInt(i32) }) |bad| {
        head.* = bad;
        try std.testing.expectEqual(CORRUPT, shmkit_ring_push_bytes(ta.at(), 0));
        try std.testing.expectEqual(CORRUPT, shmkit_ring_pop_bytes(tb.at()));
        head.* = 0;
        tail.* = bad;
        try std.testing.expectEqual(CORRUPT, shmkit_ring_push_bytes(ta.at(), 0));
        try std.testing.expectEqual(CORRUPT, shmkit_ring_pop_bytes(tb.at()));
        tail.* = 0;
    }
}

test "ring: hostile positions are CORRUPT, never an access; bad bindings are BADARG" {
    var mem: [128 + 4 * 8]u8 align(64) = [_]u8{0} ** (128 + 4 * 8);
    var ts = TestState{};
    const b = addrOf(&mem);
    const s = ts.at();
    const P = RingOf(.f64);
    const head: *i32 = @ptrCast(@alignCast(&mem[0]));
    const tail: *i32 = @ptrCast(@alignCast(&mem[64]));
    try std.testing.expectEqual(BADARG, P.push(s, 1)); // never bound
    try std.testing.expectEqual(OK, shmkit_ring_bind(s, b, 0, 128, 3, 6, 7, 0, 0, 0));
    for ([_]i32{ 6, -1, std.math.maxInt(i32) }) |bad| {
        head.* = bad;
        try std.testing.expectEqual(CORRUPT, P.push(s, 1));
        try std.testing.expect(std.math.isNan(P.pop(s)));
        try std.testing.expectEqual(CORRUPT, ts.i32s()[STATUS]);
        head.* = 0;
        tail.* = bad;
        try std.testing.expectEqual(CORRUPT, P.push(s, 1));
        try std.testing.expect(std.math.isNan(P.pop(s)));
        try std.testing.expectEqual(CORRUPT, ts.i32s()[STATUS]);
        tail.* = 0;
    }
    // head 5 positions past tail with capacity 3: overfull, reported once the tail is confirmed
    head.* = 5;
    try std.testing.expect(std.math.isNan(P.pop(s)));
    try std.testing.expectEqual(CORRUPT, ts.i32s()[STATUS]);
    try std.testing.expectEqual(NONE, P.push(s, 1)); // the producer sees it as full and writes nothing
    for (mem[128..]) |x| try std.testing.expectEqual(@as(u8, 0), x);
    // bindings
    try std.testing.expectEqual(BADARG, shmkit_ring_bind(s, b, 0, 128, 3, 7, 7, 0, 0, 0)); // not a multiple
    try std.testing.expectEqual(BADARG, P.push(s, 1)); // and the block is unbound
    try std.testing.expectEqual(BADARG, shmkit_ring_bind(s, b, 0, 128, 3, 3, 7, 0, 0, 0)); // one lap only
    try std.testing.expectEqual(BADARG, shmkit_ring_bind(s, b, 0, 128, 0, 6, 7, 0, 0, 0));
    try std.testing.expectEqual(BADARG, shmkit_ring_bind(s, b, 0, 128, 3, 6, 8, 0, 0, 0)); // i64n moves as BYTES
    try std.testing.expectEqual(BADARG, shmkit_ring_bind(s, b, 4, 128, 3, 6, 7, 0, 0, 0));
    try std.testing.expectEqual(BADARG, shmkit_ring_bind(s, b + 1, 0, 128, 3, 6, 7, 0, 0, 0));
    try std.testing.expectEqual(BADARG, shmkit_ring_bind(s, b, 0, 128, 1 << 30, 3 << 30, 7, 0, 0, 0)); // modulus above 2^31
}

test "encode: integer checks by converting back accept exactly what @trunc(v) == v in range accepted" {
    const cases = [_]f64{ 0, -0.0, 0.5, -0.5, 1, -1, 127, 127.5, -128, -128.5, 128, 255, 255.5, 256, 32767, -32768, 65535, 65536, 2147483647, -2147483648, 2147483648, 4294967295, 4294967295.5, 4294967296, 9007199254740991, -9007199254740991, 9007199254740992, 1e300, -1e300, 1e-300, std.math.inf(f64), -std.math.inf(f64), std.math.nan(f64) };
    inline for (.{ Kind.i8, Kind.u8, Kind.i16, Kind.u16, Kind.i32, Kind.u32, Kind.i64n, Kind.u64n }) |k| {
        const T = Elem(k);
        const lo: f64 = switch (k) {
            .i64n => -MAX_SAFE,
            .u64n => 0,
            else => @floatFromInt(std.math.minInt(T)),
        };
        const hi: f64 = switch (k) {
            .i64n, .u64n => MAX_SAFE,
            else => @floatFromInt(std.math.maxInt(T)),
        };
        for (cases) |v| {
            const want = v >= lo and v <= hi and @trunc(v) == v; // the old rule
            const got = encode(k, v);
            try std.testing.expectEqual(want, got != null);
            if (got) |x| {
                var range = false;
                try std.testing.expectEqual(v, decode(k, x, &range)); // -0 gives 0, equal as f64
                try std.testing.expect(!range);
            }
        }
    }
}

test "mpmc bulk push and pop: runs, records, full, empty, SLOW, CORRUPT, INVALID" {
    // ring 4 of stride 16 (seq + f64 at 8) at 128, a claim record at 192
    var mem: [128 + 4 * 16 + 64]u8 align(64) = [_]u8{0} ** (128 + 4 * 16 + 64);
    var ts = TestState{};
    var values = [_]f64{0} ** 8;
    const b = addrOf(&mem);
    const s = ts.at();
    const st = ts.i32s();
    const vs = addrOf(&values);
    const REC: u32 = 192;
    const rec: *[2]i32 = @ptrCast(@alignCast(&mem[REC]));
    const seqs: *[16]u32 = @ptrCast(@alignCast(&mem[128]));
    const enq: *u32 = @ptrCast(@alignCast(&mem[0]));
    const deq: *u32 = @ptrCast(@alignCast(&mem[64]));
    for (0..4) |i| seqs[i * 4] = @intCast(i);
    const lay: u32 = 7 | 8 << 8 | 16 << 16;
    const in = [8]f64{ 1, 2, 3, 4, 5, 6, 7, 8 };
    try std.testing.expectEqual(OK, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, lay, REC, 0, vs, 8));
    values = in;
    rec[1] = 99;
    try std.testing.expectEqual(@as(i32, 3), shmkit_mpmc_push_bulk(s, 3));
    try std.testing.expectEqual([2]i32{ 0, 0 }, rec.*); // the run [0, 3) was named, then cleared
    try std.testing.expectEqual(@as(i32, 1), shmkit_mpmc_push_bulk(s, 8)); // one slot left
    try std.testing.expectEqual(@as(i32, 0), shmkit_mpmc_push_bulk(s, 8)); // full
    try std.testing.expectEqual(@as(i32, 2), shmkit_mpmc_pop_bulk(s, 2));
    try std.testing.expectEqual([2]f64{ 1, 2 }, values[0..2].*);
    try std.testing.expectEqual(@as(i32, 2), shmkit_mpmc_pop_bulk(s, 8));
    try std.testing.expectEqual([2]f64{ 3, 1 }, values[0..2].*);
    try std.testing.expectEqual(@as(i32, 0), shmkit_mpmc_pop_bulk(s, 8)); // empty
    try std.testing.expectEqual([2]i32{ 2, 0 }, rec.*);
    // wrap-around: positions 4.. reuse the slots
    values = .{ 5, 6, 7, 8, 0, 0, 0, 0 };
    try std.testing.expectEqual(@as(i32, 4), shmkit_mpmc_push_bulk(s, 4));
    try std.testing.expectEqual(@as(i32, 4), shmkit_mpmc_pop_bulk(s, 4));
    try std.testing.expectEqual([4]f64{ 5, 6, 7, 8 }, values[0..4].*);
    // capacity 3 in a ring of 4: bounded by the count
    try std.testing.expectEqual(OK, shmkit_mpmc_bind(s, b, 0, 128, 4, 3, lay, REC, 0, vs, 8));
    values = in;
    try std.testing.expectEqual(@as(i32, 3), shmkit_mpmc_push_bulk(s, 8));
    try std.testing.expectEqual(@as(i32, 3), shmkit_mpmc_pop_bulk(s, 8));
    try std.testing.expectEqual(OK, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, lay, REC, 0, vs, 8));
    // a producer claimed the next position and did not publish: SLOW, nothing taken
    enq.* += 1;
    checkNext(st, POP_CHECKED);
    try std.testing.expectEqual(SLOW, shmkit_mpmc_pop_bulk(s, 8));
    try std.testing.expectEqual(@as(i32, 0), st[DONE]);
    enq.* -= 1;
    // full, and a consumer of last lap's position claimed it: push gives what fit, then SLOW
    values = in;
    try std.testing.expectEqual(@as(i32, 4), shmkit_mpmc_push_bulk(s, 4));
    deq.* += 1;
    checkNext(st, PUSH_CHECKED);
    try std.testing.expectEqual(SLOW, shmkit_mpmc_push_bulk(s, 2));
    try std.testing.expectEqual(@as(i32, 0), st[DONE]);
    deq.* -= 1;
    try std.testing.expectEqual(@as(i32, 4), shmkit_mpmc_pop_bulk(s, 8));
    // a bad value anywhere: INVALID naming it, nothing pushed
    try std.testing.expectEqual(OK, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, 1 | 4 << 8 | 8 << 16, REC, 0, vs, 8)); // u8, stride 8
    values = in;
    values[2] = 300;
    try std.testing.expectEqual(INVALID, shmkit_mpmc_push_bulk(s, 4));
    try std.testing.expectEqual(@as(i32, 2), st[DONE]);
    try std.testing.expectEqual(OK, shmkit_mpmc_bind(s, b, 0, 128, 4, 4, lay, REC, 0, vs, 8));
    values = in;
    // hostile: a sequence ahead of a position that never moves
    seqs[(enq.* & 3) * 4] = enq.* + 1000;
    try std.testing.expectEqual(CORRUPT, shmkit_mpmc_push_bulk(s, 2));
    seqs[(deq.* & 3) * 4] = deq.* + 50;
    try std.testing.expectEqual(CORRUPT, shmkit_mpmc_pop_bulk(s, 2));
    // more values than the buffer holds
    try std.testing.expectEqual(BADARG, shmkit_mpmc_push_bulk(s, 9));
    try std.testing.expectEqual(BADARG, shmkit_mpmc_pop_bulk(s, 9));
}

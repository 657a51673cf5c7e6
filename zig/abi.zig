//! The ABI version of libshmkit, in one place: returned by `shmkit_abi_version`
//! (root.zig), written into native/manifest.json (manifest.zig) and checked by the
//! TypeScript loader against ffi/native.ts `ABI_VERSION`.
/// 2: hot-path functions take (f64 base, u32 offset) and f64 values.
/// 3: native per-operation fast paths (fastpath.zig: shmkit_spsc_*, shmkit_mpmc_*, shmkit_noop, shmkit_bench_*).
/// 4: the asymmetric wake fence (fence.zig: shmkit_heavy_barrier, shmkit_light_publish) and the
///    Queue bulk fast paths (fastpath.zig: shmkit_mpmc_push_bulk, shmkit_mpmc_pop_bulk).
/// 5: SpscQueue and Queue of any element type in one call (fastpath.zig: shmkit_spsc_push_bytes,
///    shmkit_spsc_pop_bytes, shmkit_mpmc_push_bytes, shmkit_mpmc_pop_bytes).
/// 6: every fast-path call takes only the handle's state block (and a value or a count): where
///    the queue lies is bound into the block once (fastpath.zig: shmkit_spsc_bind, shmkit_mpmc_bind);
///    the numeric push and pop are one function per element kind (shmkit_spsc_push_f64, ...).
/// 7: the byte pushes take the scratch offset to copy from (shmkit_spsc_push_bytes,
///    shmkit_mpmc_push_bytes: a staging view's second copy), and shmkit_spsc_bind the scratch length;
///    RingBuffer's native push and pop (shmkit_ring_bind, shmkit_ring_push_f64, ...).
/// 8: RingBuffer of any element type in one call: shmkit_ring_bind takes kind BYTES with the
///    element size and a scratch block (as shmkit_spsc_bind), shmkit_ring_push_bytes and
///    shmkit_ring_pop_bytes.
pub const version: i32 = 8;

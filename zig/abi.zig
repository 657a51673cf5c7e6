//! The ABI version of libshmkit, in one place: returned by `shmkit_abi_version`
//! (root.zig), written into native/manifest.json (manifest.zig) and checked by the
//! TypeScript loader against ffi/native.ts `ABI_VERSION`.
/// 2: hot-path functions take (f64 base, u32 offset) and f64 values.
pub const version: i32 = 2;

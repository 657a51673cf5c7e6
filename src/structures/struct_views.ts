/**
 * A queue handle's two struct views (struct_view.ts), made at their first use: the
 * read-only one `tryPopView` returns, over the bytes a pop left at byte 0 of the
 * handle's scratch block, and the writable one `staging()` returns, over the second
 * copy that `tryPushStaged` pushes, which no pop overwrites (fast_path.ts
 * `BytesCalls`). A handle without the native byte calls (Queue's TypeScript path)
 * gets a private block of the same two copies.
 */
import { ShmError } from "../errors.ts";
import { type ElementType, structStaging, structView } from "../segment/elements.ts";
import { Memory } from "../segment/memory.ts";
import type { BytesCalls } from "./fast_path.ts";

export class QueueViews<T> {
  readonly #type: ElementType<T>;
  readonly #mem: Memory;
  readonly #stageAt: number;
  #popped: Readonly<T> | undefined;
  #staged: T | undefined;

  constructor(type: ElementType<T>, bytes: BytesCalls | undefined) {
    this.#type = type;
    if (bytes !== undefined) {
      this.#mem = bytes.scratch;
      this.#stageAt = bytes.stageAt;
    } else {
      const half = Math.ceil(type.size / 8) * 8;
      this.#mem = new Memory(0, new ArrayBuffer(2 * half));
      this.#stageAt = half;
    }
  }

  /** The read-only view of the popped bytes; INVALID_ARGUMENT (for `method`) if the type is not a struct. */
  popped(method: string): Readonly<T> {
    return this.#popped ??= (structView(this.#type) ?? this.#notStruct(method))(this.#mem, 0);
  }

  /** A reader for the TypeScript path: copies the element at byte `o` of `m` under the popped view and returns the view. */
  readonly readPopped = (m: Memory, o: number): Readonly<T> => {
    this.#mem.u8.set(m.u8.subarray(o, o + this.#type.size));
    return this.popped("tryPopView");
  };

  /** The writable staging view; INVALID_ARGUMENT (for `method`) if the type is not a struct. */
  staging(method: string): T {
    return this.#staged ??= (structStaging(this.#type) ?? this.#notStruct(method))(this.#mem, this.#stageAt);
  }

  /** The staged struct as a new plain value (for a path that pushes values, not bytes). */
  stagedValue(): T {
    return this.#type.read(this.#mem, this.#stageAt);
  }

  #notStruct(method: string): never {
    throw new ShmError("INVALID_ARGUMENT", `${method} needs a struct element type, not ${this.#type.name}`);
  }
}

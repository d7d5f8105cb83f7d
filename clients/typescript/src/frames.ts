// The stream framing ledgerd speaks (docs/protocol.md, "Framing"): each frame is one unpacked
// Cap'n Proto message with its segment table. FrameReader cuts a byte stream into frames;
// encodeFrame writes one. Not thread-safe (nothing in Node is shared between threads here).
import { Message, type Struct, type StructCtor } from "capnp-es";

// A frame larger than this is taken for a corrupt stream rather than buffered. The server's
// answers are far smaller (a page of 1,000 customers with every field full is about 10 MiB).
export const kMaxFrameBytes = 64 * 1024 * 1024;

// Segment counts above this are refused as the server refuses them (docs/protocol.md).
const kMaxSegments = 512;

export class FrameError extends Error {
  override name = "FrameError";
}

// Accumulates received bytes and hands out whole frames, each as its own Message (the bytes
// are copied, so the Message outlives the reader's buffer).
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  // Adds received bytes; returns every frame they complete, in order. Throws FrameError when
  // the stream cannot be Cap'n Proto framing (then the connection must be dropped).
  push(chunk: Buffer): Message[] {
    return this.pushBytes(chunk).map((bytes) => new Message(bytes, false));
  }

  // As push, but returns each frame's bytes (segment table included) rather than a Message.
  pushBytes(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      const size = this.nextFrameSize();
      if (size === undefined || this.buffered < size) return frames;
      frames.push(this.take(size));
    }
  }

  // Bytes received that do not make a whole frame yet.
  get pendingBytes(): number {
    return this.buffered;
  }

  // The size of the frame at the front, table included, once its segment table is in.
  private nextFrameSize(): number | undefined {
    if (this.buffered < 4) return undefined;
    const head = this.peek(4);
    const segments = head.readUInt32LE(0) + 1;
    if (segments > kMaxSegments) throw new FrameError(`a frame announces ${segments} segments`);
    const tableBytes = 4 * (segments + 1) + (segments % 2 === 0 ? 4 : 0);
    if (this.buffered < tableBytes) return undefined;
    const table = this.peek(tableBytes);
    let words = 0;
    for (let i = 0; i < segments; i++) words += table.readUInt32LE(4 + 4 * i);
    const size = tableBytes + 8 * words;
    if (size > kMaxFrameBytes) throw new FrameError(`a frame of ${size} bytes is beyond ${kMaxFrameBytes}`);
    return size;
  }

  // The first `n` buffered bytes (n <= buffered), joined into the first chunk if need be.
  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) {
      const joined = Buffer.concat(this.chunks);
      this.chunks = [joined];
    }
    return this.chunks[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    const front = this.peek(n);
    const rest = this.chunks[0].subarray(n);
    if (rest.length > 0) this.chunks[0] = rest;
    else this.chunks.shift();
    this.buffered -= n;
    return front;
  }
}

// The frame of a message built with capnp-es: segment table, then the segments, unpacked.
export function encodeFrame(message: Message): Buffer {
  return Buffer.from(message.toArrayBuffer());
}

// Builds a one-root message of type `type`, filled by `fill`, and returns its frame.
export function buildFrame<T extends Struct>(type: StructCtor<T>, fill: (root: T) => void): Buffer {
  const message = new Message();
  fill(message.initRoot(type));
  return encodeFrame(message);
}

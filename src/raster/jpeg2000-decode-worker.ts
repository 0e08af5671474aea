/**
 * The worker thread behind jpeg2000-decoders.ts: one OpenJPEG wasm instance that decodes one-tile codestreams
 * when asked. Decoding is synchronous, so it runs here rather than on the thread that reads and mosaics.
 */
import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';

export type DecodeRequest = { id: number; stream: Uint8Array; width: number; height: number; components: number };
export type DecodeReply = { id: number; ok: true; samples: ArrayBuffer } | { id: number; ok: false; message: string };

interface Decoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): { width: number; height: number; componentCount: number };
}

const require = createRequire(import.meta.url);
const factory = require('@cornerstonejs/codec-openjpeg/decodewasmjs') as (m: object) => Promise<{ J2KDecoder: new () => Decoder }>;
// OpenJPEG reports progress and errors as text; only the latest errors are kept, to explain a failure.
const messages: string[] = [];
const keep = (line: string) => {
  if (!/^\[INFO\]/.test(line) && line.trim()) messages.push(line.trim());
  messages.splice(0, Math.max(0, messages.length - 5));
};
const decoder = factory({ print: keep, printErr: keep }).then((module) => new module.J2KDecoder());

parentPort!.on('message', async ({ id, stream, width, height, components }: DecodeRequest) => {
  try {
    const dec = await decoder;
    messages.length = 0;
    dec.getEncodedBuffer(stream.length).set(stream);
    dec.decode();
    // A failed decode does not throw: OpenJPEG logs the error and leaves the previous tile's frame and samples in
    // place, which would be returned as this tile's.
    if (messages.some((line) => line.startsWith('[ERROR]'))) throw new Error(messages.join('; '));
    const info = dec.getFrameInfo();
    if (info.width !== width || info.height !== height || info.componentCount !== components) {
      throw new Error(`tile decoded as ${info.width} x ${info.height} x ${info.componentCount}`);
    }
    // Copied out of the wasm memory, which the next tile reuses.
    const samples = dec.getDecodedBuffer().slice().buffer;
    parentPort!.postMessage({ id, ok: true, samples } satisfies DecodeReply, [samples]);
  } catch (err) {
    const message = messages.length ? messages.join('; ') : err instanceof Error ? err.message : `OpenJPEG error ${String(err)}`;
    parentPort!.postMessage({ id, ok: false, message } satisfies DecodeReply);
  }
});

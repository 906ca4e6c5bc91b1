// A WASI 0.3 command in JavaScript (componentize-qjs, world
// `weft:app-p3/app`): `run` is async; it awaits the monotonic clock and
// writes through the 0.3 stdout stream.
//
// Arguments pick what it does: none or a name greets; `sleep MS` awaits the
// clock for MS milliseconds; `exit N` exits with N; `trap` throws, which
// componentize-qjs turns into a trap.
import { getArguments } from "wasi:cli/environment@0.3.0";
import { exitWithCode } from "wasi:cli/exit@0.3.0";
import stdout from "wasi:cli/stdout@0.3.0";
import { waitFor } from "wasi:clocks/monotonic-clock@0.3.0";

// QuickJS has no TextEncoder; the greetings are ASCII.
function bytes(text) {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

async function write(text) {
  const { readable, writable } = wit.Stream(wit.Stream.U8);
  const written = stdout.writeViaStream(readable);
  await writable.writeAll(bytes(text));
  writable.drop();
  await written.read();
}

export const run = {
  async run() {
    const args = getArguments();
    const what = args.length > 1 ? args[1] : "weft";
    if (what === "sleep") {
      await waitFor(Number(args[2]) * 1000000);
      await write(`slept ${args[2]} ms\n`);
    } else if (what === "exit") {
      exitWithCode(Number(args[2]));
    } else if (what === "trap") {
      throw new Error("the guest was asked to trap");
    } else {
      await waitFor(1000000);
      await write(`Hello, ${what}, from WASI 0.3 in JavaScript!\n`);
    }
  },
};

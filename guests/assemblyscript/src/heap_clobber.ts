// Allocates before any WASI call (so the AS heap is set up first), fills
// ~110 KiB of small buffers with 0xAA, makes WASI calls, then checks that
// nothing else wrote into its heap. Prints the address range it owns and the
// number of bytes that changed; exits 0 if none did, 3 otherwise.
const CHUNK = 4096;
const COUNT = 28;
const chunks = new Array<Uint8Array>(0);
for (let i = 0; i < COUNT; i++) {
  const c = new Uint8Array(CHUNK);
  memory.fill(c.dataStart, 0xAA, CHUNK);
  chunks.push(c);
}
let lo = <usize>0xffffffff, hi = <usize>0;
for (let i = 0; i < COUNT; i++) {
  const s = chunks[i].dataStart;
  if (s < lo) lo = s;
  if (s + CHUNK > hi) hi = s + CHUNK;
}
// WASI calls: each enters the adapter, which runs on its stack.
process.stdout.write("heap chunks span " + lo.toString() + ".." + hi.toString() + "\n");
const args = process.argv;
process.stdout.write("argc=" + args.length.toString() + "\n");
let bad = 0;
let first = <usize>0;
for (let i = 0; i < COUNT; i++) {
  const c = chunks[i];
  for (let j = 0; j < CHUNK; j++) {
    if (c[j] != 0xAA) {
      if (bad == 0) first = c.dataStart + j;
      bad++;
    }
  }
}
process.stdout.write("clobbered bytes: " + bad.toString() + (bad ? " first at " + first.toString() : "") + "\n");
process.exit(bad ? 3 : 0);

// The mounts behaviour: reads /input (read-only) and writes /output
// (read-write); with `write-readonly`, tries every kind of write on /input.
// StarlingMonkey has no `fs` module, so this uses wasi:filesystem directly.
import { getArguments } from "wasi:cli/environment@0.2.12";
import { exit } from "wasi:cli/exit@0.2.12";
import { getDirectories } from "wasi:filesystem/preopens@0.2.12";

function mount(path) {
  const found = getDirectories().find(([, guestPath]) => guestPath === path);
  if (!found) throw new Error(`${path} is not mounted`);
  return found[0];
}

function readAll(dir, name) {
  const file = dir.openAt({}, name, {}, { read: true });
  const chunks = [];
  let offset = 0n;
  for (;;) {
    const [bytes, end] = file.read(65536n, offset);
    chunks.push(...bytes);
    offset += BigInt(bytes.length);
    if (end || bytes.length === 0) break;
  }
  return new TextDecoder().decode(new Uint8Array(chunks));
}

function readWrite() {
  let greeting;
  try {
    greeting = readAll(mount("/input"), "greeting.txt");
  } catch (err) {
    console.error(`cannot read /input/greeting.txt: ${err.payload ?? err}`);
    exit({ tag: "err" });
  }
  console.log(`read: ${greeting.replace(/\n$/, "")}`);
  try {
    const out = mount("/output").openAt({}, "result.txt", { create: true, truncate: true }, { write: true });
    out.write(new TextEncoder().encode(greeting.toUpperCase()), 0n);
  } catch (err) {
    console.error(`cannot write /output/result.txt: ${err.payload ?? err}`);
    exit({ tag: "err" });
  }
  console.log("wrote /output/result.txt");
}

function writeReadOnly() {
  const input = mount("/input");
  const attempts = [
    ["create /input/new.txt", () => input.openAt({}, "new.txt", { create: true }, { write: true })],
    ["append to /input/greeting.txt", () => input.openAt({}, "greeting.txt", {}, { write: true })],
    ["mkdir /input/sub", () => input.createDirectoryAt("sub")],
  ];
  let allDenied = true;
  for (const [what, attempt] of attempts) {
    try {
      attempt();
      console.log(`${what}: allowed`);
      allDenied = false;
    } catch {
      console.log(`${what}: denied`);
    }
  }
  if (!allDenied) exit({ tag: "err" });
}

export const run = {
  run() {
    const mode = getArguments()[1] ?? "";
    if (mode === "read-write") readWrite();
    else if (mode === "write-readonly") writeReadOnly();
    else {
      console.error(`usage: files read-write|write-readonly (got ${JSON.stringify(mode)})`);
      exit({ tag: "err" });
    }
  },
};

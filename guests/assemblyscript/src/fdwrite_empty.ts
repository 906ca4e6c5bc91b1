import { fd_write } from "bindings/wasi_snapshot_preview1";
// fd_write(99, iovs, 0, &nwritten): with no buffers, to a descriptor that does
// not exist. Preview1 says EBADF (8). Also with one empty buffer, and to fd 1.
const scratch = memory.data(16);
store<u32>(scratch + 12, 0xdead);
let e1 = fd_write(99, scratch, 0, scratch + 12);
process.stdout.write("fd_write(99, iovs_len=0) errno=" + e1.toString() + " nwritten=" + load<u32>(scratch + 12).toString() + "\n");
store<u32>(scratch, scratch);
store<u32>(scratch + 4, 0);
let e2 = fd_write(99, scratch, 1, scratch + 12);
process.stdout.write("fd_write(99, one empty iov) errno=" + e2.toString() + "\n");
let e3 = fd_write(1, scratch, 0, scratch + 12);
process.stdout.write("fd_write(1, iovs_len=0) errno=" + e3.toString() + "\n");
process.exit(e1 == 8 ? 0 : 1);

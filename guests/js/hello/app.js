// The hello behaviour in JavaScript: greets whoever the first argument names.
import { getArguments } from "wasi:cli/environment@0.2.12";

export const run = {
  run() {
    const args = getArguments();
    const who = args.length > 1 ? args[1] : "weft";
    console.log(`Hello, ${who}!`);
  },
};

// The args and env echo behaviour: every argument, then every variable
// of the environment, sorted, one per line.
import { getArguments, getEnvironment } from "wasi:cli/environment@0.2.12";

export const run = {
  run() {
    getArguments().forEach((arg, i) => console.log(`arg[${i}]=${arg}`));
    const vars = getEnvironment().sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, value] of vars) {
      console.log(`env ${name}=${value}`);
    }
  },
};

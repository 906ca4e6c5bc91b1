// A command with a `weft-ready` hook that succeeds.
export function weftReady() {
  console.log("weft-ready: ok");
}

export const run = {
  run() {
    console.log("run: started");
  },
};

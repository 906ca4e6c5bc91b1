// A command whose `weft-ready` hook fails, so it must never run. Throwing
// from a function that returns `result<_, string>` returns `err(message)`.
export function weftReady() {
  throw "the database at db.internal:5432 is not reachable";
}

export const run = {
  run() {
    console.log("run: this must not be printed");
  },
};

// Prints the environment variables named A, B, C, MODE and the total count.
const env = process.env;
const keys = env.keys();
process.stdout.write("count=" + keys.length.toString() + "\n");
const names = ["A", "B", "C", "MODE"];
for (let i = 0; i < names.length; i++) {
  const n = names[i];
  if (env.has(n)) {
    process.stdout.write(n + "=" + env.get(n) + "\n");
  } else {
    process.stdout.write(n + " unset\n");
  }
}

// Prints each argument on its own line, then exits with the code given as the
// last argument (if it parses as an integer), else 0.
const argv = process.argv;
for (let i = 0; i < argv.length; i++) {
  process.stdout.write("arg[" + i.toString() + "]=" + argv[i] + "\n");
}
let code = 0;
if (argv.length > 1) {
  code = I32.parseInt(argv[argv.length - 1]);
}
process.exit(code);

/** The container init: filled in by the lifecycle ([2/7]). */
process.stderr.write('runts init: not implemented yet\n');
process.exit(1);

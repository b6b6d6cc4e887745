/** A command's handler takes the parsed words as its own Args type. */
export type Handler = (argv: never) => Promise<void>;

// The precompiled validator is plain JavaScript made at build time.
declare module '*/generated/validate-config.js' {
  const validate: (data: unknown) => boolean;
  export default validate;
}

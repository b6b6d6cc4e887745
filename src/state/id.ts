import { RuntsError } from '../errors';

// runc's rule: word characters, '+', '-', '.'; never "." or "..". Checked
// before anything touches the disk, so no id can name a path outside --root,
// nor one of runts' own names there (delete's tombs start with '~': store.ts).
const ID_PATTERN = /^[\w+\-.]+$/;

export const isValidId = (id: string): boolean => ID_PATTERN.test(id) && id !== '.' && id !== '..' && id.length <= 1024;

export function checkContainerId(id: string | undefined): string {
  if (id === undefined || id === '') throw new RuntsError('container id cannot be empty');
  if (!isValidId(id)) {
    throw new RuntsError(`invalid container id format: ${JSON.stringify(id)}`);
  }
  return id;
}

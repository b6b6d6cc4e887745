// The container's session keyring (src/linux/keyring.ts), against the Sys double.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { joinSessionKeyring, sessionKeyringName } from '../../src/linux/keyring';
import { KEY_USR_SEARCH } from '../../src/sys/constants';
import { RecordingSys } from '../../src/sys/recording';

const test = suite('keyring');

test('joins "_ses.<id>" and adds search for the owner to its permissions', () => {
  const sys = new RecordingSys();
  assert.is(sessionKeyringName('web-1'), '_ses.web-1');
  assert.is(joinSessionKeyring(sys, '_ses.web-1'), 0x1234);
  assert.equal(sys.callsTo('joinSessionKeyring'), [['_ses.web-1']]);
  // The double describes the keyring with perm 3f010000.
  assert.equal(sys.callsTo('setKeyPermissions'), [[0x1234, 0x3f010000 | KEY_USR_SEARCH]]);
});

test('a kernel without keyrings (ENOSYS) is no error; any other failure is', () => {
  assert.is(joinSessionKeyring(new RecordingSys().failOn('joinSessionKeyring', 38), '_ses.x'), undefined);
  assert.throws(
    () => joinSessionKeyring(new RecordingSys().failOn('joinSessionKeyring', 1), '_ses.x'),
    /Operation not permitted|operation not permitted/,
  );
});

test.run();

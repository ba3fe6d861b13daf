/** Records → the SDK output shapes (which the XML serializer writes with the SDK's own schemas). */
import type { VpcEncryptionControl, VpcEncryptionControlExclusions } from '@aws-sdk/client-ec2';
import { tagList } from './context.ts';
import { type EncryptionControlRecord, EXCLUSION_NAMES } from './model.ts';

export function controlView(control: EncryptionControlRecord): VpcEncryptionControl {
  const exclusions: VpcEncryptionControlExclusions = {};
  for (const name of EXCLUSION_NAMES) {
    const exclusion = control.exclusions[name];
    exclusions[name] = {
      State: exclusion.state,
      ...(exclusion.stateMessage === undefined ? {} : { StateMessage: exclusion.stateMessage }),
    };
  }
  return {
    VpcId: control.vpcId,
    VpcEncryptionControlId: control.id,
    Mode: control.mode,
    State: control.state as VpcEncryptionControl['State'],
    ...(control.stateMessage === undefined ? {} : { StateMessage: control.stateMessage }),
    ResourceExclusions: exclusions,
    Tags: tagList(control.tags),
  };
}

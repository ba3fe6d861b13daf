/**
 * Loading a scenario into the store. Every id is derived from names (`Ec2Store.namedId`), and the
 * returned map lets tests and the demo find them: keys are `<account>/<region>/<vpc>` for VPCs,
 * `<account>/<region>/<vpc>/<resource name>` for what is inside a VPC (instances with `count > 1` get
 * `-1`, `-2`, …), `<account>/<region>/tgw/<name>` and `<account>/<region>/pcx/<name>`.
 */

import { checkLogFormat, DEFAULT_FLOW_LOG_FORMAT } from './actions/transit.ts';
import { tagsFromPlain } from './context.ts';
import type { EncryptionControls } from './encryption.ts';
import type { ExclusionName, SubnetRecord, VpcRecord } from './model.ts';
import type { Resources } from './resources.ts';
import { type Scenario, type ScenarioInput, ScenarioSchema, type ScenarioVpc } from './scenario-schema.ts';
import type { Ec2Store, RegionState } from './store.ts';

export type ScenarioIds = Record<string, string>;

export function parseScenario(input: unknown): Scenario {
  return ScenarioSchema.parse(input);
}

export function loadScenario(
  store: Ec2Store,
  controls: EncryptionControls,
  resources: Resources,
  input: ScenarioInput | Scenario,
): ScenarioIds {
  const scenario = ScenarioSchema.parse(input);
  const ids: ScenarioIds = {};
  const now = store.currentTime();
  const vpcByKey = new Map<string, [RegionState, VpcRecord]>();

  for (const account of scenario.accounts) {
    for (const region of account.regions) {
      const state = store.region(account.id, region.name);
      const scope = `${account.id}/${region.name}`;
      if (region.accountControl !== undefined) {
        state.account.mode = region.accountControl.mode;
        state.account.managedBy = region.accountControl.managedBy;
        state.account.state =
          region.accountControl.mode === 'unmanaged' ? 'default-state' : 'transitions-successful';
        for (const name of region.accountControl.exclusions) {
          state.account.exclusions[name] = 'enabled';
        }
      }
      for (const vpcSpec of region.vpcs) {
        const key = `${scope}/${vpcSpec.name}`;
        if (vpcByKey.has(key)) {
          throw new Error(`scenario: VPC name "${vpcSpec.name}" is used twice in ${scope}`);
        }
        const vpc = loadVpc(store, controls, resources, state, scope, vpcSpec, ids, now);
        vpcByKey.set(key, [state, vpc]);
        ids[key] = vpc.id;
      }
      for (const tgwSpec of region.transitGateways) {
        const tgw = resources.transitGateway(state, {
          id: store.namedId('tgw', scope, tgwSpec.name),
          creationTime: now,
          encryption: { state: tgwSpec.encryption },
          securityGroupReferencingSupport: tgwSpec.securityGroupReferencing ? 'enable' : 'disable',
          multicastSupport: tgwSpec.multicast ? 'enable' : 'disable',
          tags: tagsFromPlain({ Name: tgwSpec.name, ...tgwSpec.tags }),
        });
        ids[`${scope}/tgw/${tgwSpec.name}`] = tgw.id;
        for (const attachment of tgwSpec.attachments) {
          const vpcId = attachment.vpc === undefined ? undefined : ids[`${scope}/${attachment.vpc}`];
          if (attachment.vpc !== undefined && vpcId === undefined) {
            throw new Error(
              `scenario: transit gateway ${tgwSpec.name} attaches unknown VPC "${attachment.vpc}" in ${scope}`,
            );
          }
          const id = store.namedId('tgw-attach', scope, tgwSpec.name, attachment.name);
          resources.tgwAttachment(state, {
            id,
            transitGatewayId: tgw.id,
            resourceType: attachment.type,
            resourceId: vpcId ?? store.namedId(attachment.type, scope, attachment.name),
            ...(vpcId === undefined ? {} : { vpcId }),
            subnetIds: vpcId === undefined ? [] : [...state.contentsOf(vpcId).subnets].slice(0, 1),
            state: 'available',
            creationTime: now,
            tags: tagsFromPlain({ Name: attachment.name }),
          });
          ids[`${scope}/tgw/${tgwSpec.name}/${attachment.name}`] = id;
        }
      }
    }
  }

  // Peerings last: either side may be defined anywhere in the scenario.
  for (const account of scenario.accounts) {
    for (const region of account.regions) {
      const scope = `${account.id}/${region.name}`;
      for (const peering of region.peerings) {
        const side = (s: typeof peering.requester): [RegionState, VpcRecord] => {
          const key = `${s.account ?? account.id}/${s.region ?? region.name}/${s.vpc}`;
          const found = vpcByKey.get(key);
          if (found === undefined) {
            throw new Error(`scenario: peering ${peering.name} refers to unknown VPC ${key}`);
          }
          return found;
        };
        const [requesterState, requester] = side(peering.requester);
        const [accepterState, accepter] = side(peering.accepter);
        const record = resources.peering(requester, requesterState, accepter, accepterState, {
          id: store.namedId('pcx', scope, peering.name),
          status: peering.status,
          tags: tagsFromPlain({ Name: peering.name, ...peering.tags }),
          expirationTime: now + 7 * 24 * 3_600_000,
        });
        ids[`${scope}/pcx/${peering.name}`] = record.id;
      }
    }
  }
  return ids;
}

function loadVpc(
  store: Ec2Store,
  controls: EncryptionControls,
  resources: Resources,
  state: RegionState,
  scope: string,
  spec: ScenarioVpc,
  ids: ScenarioIds,
  now: number,
): VpcRecord {
  const vpcKey = `${scope}/${spec.name}`;
  const vpc = resources.vpc(state, {
    id: store.namedId('vpc', vpcKey),
    cidrBlock: spec.cidr,
    tags: tagsFromPlain({ Name: spec.name, ...spec.tags }),
  });
  const subnets = new Map<string, SubnetRecord>();
  const subnetSpecs = spec.subnets ?? [{ name: 'main', localZone: false, tags: {} }];
  const [a, b] = spec.cidr.split('.');
  subnetSpecs.forEach((subnetSpec, index) => {
    const subnet = resources.subnet(state, vpc, {
      id: store.namedId('subnet', vpcKey, subnetSpec.name),
      cidrBlock: subnetSpec.cidr ?? `${a}.${b}.${index}.0/24`,
      availabilityZone: subnetSpec.az ?? `${state.region}${'abcdef'[index % 6]}`,
      localZone: subnetSpec.localZone,
      tags: tagsFromPlain({ Name: subnetSpec.name, ...subnetSpec.tags }),
    });
    subnets.set(subnetSpec.name, subnet);
    ids[`${vpcKey}/${subnetSpec.name}`] = subnet.id;
  });
  const subnetFor = (name: string | undefined, what: string): SubnetRecord => {
    const subnet = name === undefined ? subnets.values().next().value : subnets.get(name);
    if (subnet === undefined) {
      throw new Error(`scenario: ${what} in VPC ${vpcKey} refers to unknown subnet "${name ?? '(first)'}"`);
    }
    return subnet;
  };

  for (const instanceSpec of spec.instances) {
    const subnet = subnetFor(instanceSpec.subnet, `instance ${instanceSpec.name}`);
    const reservationId = store.namedId('r', vpcKey, instanceSpec.name);
    for (let n = 1; n <= instanceSpec.count; n++) {
      const name = instanceSpec.count > 1 ? `${instanceSpec.name}-${n}` : instanceSpec.name;
      const instance = resources.instance(state, vpc, subnet, {
        id: store.namedId('i', vpcKey, name),
        eniId: store.namedId('eni', vpcKey, name),
        reservationId,
        instanceType: instanceSpec.type,
        imageId: 'ami-0sandbox000000000',
        state: instanceSpec.state,
        tags: tagsFromPlain({ Name: name, ...instanceSpec.tags }),
        launchTime: now,
        enaSupport: instanceSpec.enaSupport,
      });
      ids[`${vpcKey}/${name}`] = instance.id;
    }
  }
  for (const eniSpec of spec.networkInterfaces) {
    const eni = resources.networkInterface(
      state,
      vpc,
      subnetFor(eniSpec.subnet, `network interface ${eniSpec.name}`),
      {
        id: store.namedId('eni', vpcKey, eniSpec.name),
        interfaceType: eniSpec.interfaceType,
        description: eniSpec.description,
        requesterManaged: true,
        ...(eniSpec.requesterId === undefined ? {} : { requesterId: eniSpec.requesterId }),
        ...(eniSpec.service === undefined ? {} : { service: eniSpec.service }),
        ...(eniSpec.encryptionSupported === undefined
          ? {}
          : { encryptionSupported: eniSpec.encryptionSupported }),
        tags: tagsFromPlain({ Name: eniSpec.name, ...eniSpec.tags }),
      },
    );
    ids[`${vpcKey}/${eniSpec.name}`] = eni.id;
  }
  if (spec.internetGateway) {
    const igw = resources.internetGateway(state, {
      id: store.namedId('igw', vpcKey),
      tags: tagsFromPlain({ Name: `${spec.name}-igw` }),
    });
    resources.attachInternetGateway(state, igw, vpc);
    ids[`${vpcKey}/igw`] = igw.id;
  }
  if (spec.egressOnlyInternetGateway) {
    const eigw = resources.egressOnlyInternetGateway(state, vpc, {
      id: store.namedId('eigw', vpcKey),
      tags: new Map(),
    });
    ids[`${vpcKey}/eigw`] = eigw.id;
  }
  for (const natSpec of spec.natGateways) {
    const nat = resources.natGateway(state, vpc, subnetFor(natSpec.subnet, `NAT gateway ${natSpec.name}`), {
      id: store.namedId('nat', vpcKey, natSpec.name),
      connectivityType: 'public',
      state: 'available',
      tags: tagsFromPlain({ Name: natSpec.name, ...natSpec.tags }),
      createTime: now,
    });
    ids[`${vpcKey}/${natSpec.name}`] = nat.id;
  }
  if (spec.vpnGateway) {
    const vgw = resources.vpnGateway(state, { id: store.namedId('vgw', vpcKey), tags: new Map() });
    resources.attachVpnGateway(state, vgw, vpc, 'attached');
    ids[`${vpcKey}/vgw`] = vgw.id;
  }
  for (const flowLogSpec of spec.flowLogs) {
    const logFormat = flowLogSpec.logFormat ?? DEFAULT_FLOW_LOG_FORMAT;
    checkLogFormat(logFormat);
    const id = store.namedId('fl', vpcKey, flowLogSpec.name);
    state.flowLogs.set(id, {
      id,
      resourceId: vpc.id,
      trafficType: flowLogSpec.trafficType,
      logDestinationType: flowLogSpec.destinationType,
      ...(flowLogSpec.destination === undefined
        ? { logGroupName: `/vpc/${spec.name}` }
        : { logDestination: flowLogSpec.destination }),
      logFormat,
      maxAggregationInterval: 600,
      creationTime: now,
      tags: tagsFromPlain({ Name: flowLogSpec.name, ...flowLogSpec.tags }),
    });
    ids[`${vpcKey}/${flowLogSpec.name}`] = id;
  }
  if (spec.encryptionControl !== undefined) {
    const controlSpec = spec.encryptionControl;
    const control = controls.create(state, vpc, {
      id: store.namedId('vpcec', vpcKey),
      mode: controlSpec.mode,
      tags: tagsFromPlain(controlSpec.tags),
      fromCreateVpc: true,
      immediate: true,
      exclusions: Object.fromEntries(controlSpec.exclusions.map((name: ExclusionName) => [name, true])),
    });
    control.state = controlSpec.state;
    if (controlSpec.stateMessage !== undefined) {
      control.stateMessage = controlSpec.stateMessage;
    }
    ids[`${vpcKey}/control`] = control.id;
  }
  return vpc;
}

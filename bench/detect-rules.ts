/**
 * The rules of bench/detect: 100 single-event Sigma rules and 20 correlations over CloudTrail, as YAML text.
 * Shared with the prefilter's equivalence test (src/detect/line-prefilter.test.ts).
 */
const OPS = [
  'GetObject',
  'PutObject',
  'AssumeRole',
  'GetCallerIdentity',
  'GetSecretValue',
  'GetParameter',
  'DescribeInstances',
  'ListBuckets',
  'Decrypt',
  'PutMetricData',
  'CreateAccessKey',
  'CreateUser',
  'AttachUserPolicy',
  'UpdateTrail',
  'ConsoleLogin',
  'DeleteTrail',
];

const header = (i: number, title: string, level = 'medium'): string =>
  `title: ${title}
id: 00000000-0000-4000-8000-${String(i).padStart(12, '0')}
name: r${i}
status: test
level: ${level}
tags: [attack.t1078.004]
logsource: { product: aws, service: cloudtrail }
`;

/** 100 single-event rules with the variety real rule sets have: lists, modifiers, conditions, a regex, a CIDR. */
export function benchSingleRules(): string {
  const docs: string[] = [];
  for (let i = 0; i < 100; i++) {
    const op = OPS[i % OPS.length]!;
    const kind = i % 10;
    let detection: string;
    // Each rule is selective, as real ones are: a rare combination of an operation with a condition.
    if (kind === 0)
      detection = `  sel:\n    eventName: ${op}\n    errorCode: AccessDenied\n    awsRegion: ${['us-east-1', 'eu-west-1'][i % 2]}\n  condition: sel`;
    else if (kind === 1)
      detection = `  sel:\n    eventName: [${op}, ${OPS[(i + 3) % OPS.length]}]\n    errorCode: AccessDenied\n    userIdentity.type: AssumedRole\n  condition: sel`;
    else if (kind === 2)
      detection = `  sel:\n    eventName: ${op}\n    userAgent|contains: ['Mozilla', 'Chrome/']\n  condition: sel`;
    else if (kind === 3)
      detection = `  sel:\n    userIdentity.arn|startswith: 'arn:aws:iam::123456789012:user/svc-0${i % 10}0'\n    eventName: ${op}\n  condition: sel`;
    else if (kind === 4)
      detection = `  sel:\n    eventSource: iam.amazonaws.com\n    eventName: ${op}\n  filter:\n    userIdentity.type: AssumedRole\n  condition: sel and not filter`;
    else if (kind === 5)
      detection = `  sel:\n    sourceIPAddress|cidr: '203.0.113.0/24'\n    eventName: ${op}\n  condition: sel`;
    else if (kind === 6)
      detection = `  sel:\n    eventName: GetSecretValue\n    requestParameters.secretId|re: '^prod/app/secret-4${i % 10}[0-9]$'\n  condition: sel`;
    else if (kind === 7)
      detection = `  sel1:\n    eventName: ${op}\n  sel2:\n    awsRegion: ap-southeast-2\n  sel3:\n    errorCode|exists: true\n  condition: all of sel*`;
    else if (kind === 8)
      detection = `  sel:\n    eventName|endswith: 'Trail'\n    userIdentity.type: IAMUser\n    sourceIPAddress|startswith: '203.0.113.'\n  condition: sel`;
    else
      detection = `  sel:\n    readOnly: false\n    eventName: ${op}\n    userAgent|contains: 'Mozilla'\n  condition: sel`;
    docs.push(`${header(i, `bench rule ${i}`)}detection:\n${detection}\n`);
  }
  return docs.join('---\n');
}

/** 20 correlations over those rules: counts, distinct values and sequences per key. */
export function benchCorrelations(): string {
  const docs: string[] = [];
  for (let j = 0; j < 20; j++) {
    const id = `00000000-0000-4000-9000-${String(j).padStart(12, '0')}`;
    const kind = j % 4;
    let body: string;
    if (kind === 0)
      body = `correlation:\n  type: event_count\n  rules: [r${(j * 5) % 100}]\n  group-by: [userIdentity.accessKeyId]\n  timespan: 5m\n  condition: { gte: 20 }`;
    else if (kind === 1)
      body = `correlation:\n  type: value_count\n  rules: [r${(j * 5 + 6) % 100}]\n  group-by: [userIdentity.arn]\n  timespan: 10m\n  condition: { field: requestParameters.secretId, gte: 10 }`;
    else if (kind === 2)
      body = `correlation:\n  type: temporal\n  rules: [r${(j * 5 + 2) % 100}, r${(j * 5 + 10) % 100}]\n  group-by: [userIdentity.arn]\n  timespan: 10m`;
    else
      body = `correlation:\n  type: temporal_ordered\n  rules: [r${(j * 5 + 1) % 100}, r${(j * 5 + 20) % 100}]\n  group-by: [userIdentity.arn]\n  timespan: 15m`;
    docs.push(`title: bench correlation ${j}\nid: ${id}\nstatus: test\nlevel: high\n${body}\n`);
  }
  return docs.join('---\n');
}

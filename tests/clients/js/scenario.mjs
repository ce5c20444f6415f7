// The scenario of spec/clients.md §8.2 through balena-sdk for JavaScript 23.x.
//
// Run by tests/clients/test_js_sdk.py under Node.js 24: `node scenario.mjs` with
// BALENA_SDK_DIR (the node_modules holding balena-sdk), FLEETYARD_URL, FLEETYARD_USERNAME,
// FLEETYARD_EMAIL and FLEETYARD_PASSWORD set. Prints one JSON outcome per step, the same
// objects as tests/clients/steps.py; every step asserts on what the server answered.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(process.env.BALENA_SDK_DIR.replace(/\/?$/, '/'));
const { getSdk } = require('balena-sdk');

const URL_ = process.env.FLEETYARD_URL.replace(/\/$/, '');
const USERNAME = process.env.FLEETYARD_USERNAME;
const EMAIL = process.env.FLEETYARD_EMAIL;
const PASSWORD = process.env.FLEETYARD_PASSWORD;
const PI = 'raspberrypi4-64';
const AMD = 'generic-amd64';
const C1 = 'd1'.repeat(16);
const C2 = 'd2'.repeat(16);

// Every answer of 400 or more a step received, appended to its error (the SDK turns some
// into errors that name no route).
const failed = [];

// The SDK pointed at fleetyard: apiUrl, and no token file (clients.md §2.2).
function sdk() {
	const balena = getSdk({ apiUrl: URL_, dataDirectory: false });
	balena.interceptors.push({
		responseError(err) {
			const options = err.requestOptions ?? {};
			const path = options.url ? new URL(options.url, URL_).pathname : '?';
			failed.push(`${options.method ?? 'GET'} ${path} -> ${err.statusCode} ${String(err.body ?? '').slice(0, 160)}`);
			throw err;
		},
	});
	return balena;
}

const succeeded = new Set();

async function step(name, ...rest) {
	const [needs, fn] = rest.length === 2 ? rest : [[], rest[0]];
	const missing = needs.find((n) => !succeeded.has(n));
	let outcome;
	if (missing !== undefined) {
		outcome = { step: name, ok: false, blocked: missing };
	} else {
		try {
			await fn();
			succeeded.add(name);
			outcome = { step: name, ok: true };
		} catch (err) {
			const where = (err.stack ?? '').split('\n').find((l) => l.includes('scenario.mjs')) ?? '';
			let error = `${err.code ?? err.name}: ${err.message}${where ? ` (${where.trim()})` : ''}`;
			if (failed.length) error += `\nfailed requests: ${failed.slice(-4).join(' | ')}`;
			outcome = { step: name, ok: false, error };
		}
	}
	failed.length = 0;
	console.log(JSON.stringify(outcome));
}

async function rejects(promise, code, what) {
	try {
		await promise;
	} catch (err) {
		assert.equal(err.code, code, `${what}: ${err.message}`);
		return err;
	}
	assert.fail(`${what} should have failed with ${code}`);
}

const balena = sdk();
const { models } = balena;
const s = {};

// --- 1. authentication -----------------------------------------------------------------

const LOGIN = 'auth: login with the e-mail, whoami';

await step('auth: not logged in before login', async () => {
	assert.equal(await balena.auth.isLoggedIn(), false);
	assert.equal(await balena.auth.whoami(), undefined);
});

await step('auth: a wrong password is refused', async () => {
	await rejects(balena.auth.login({ email: EMAIL, password: PASSWORD + 'x' }), 'BalenaInvalidLoginCredentials', 'login');
});

await step(LOGIN, async () => {
	await balena.auth.login({ email: EMAIL, password: PASSWORD });
	const token = await balena.auth.getToken();
	assert.equal(token.split('.').length, 3, `a bare JWT: ${token}`);
	const me = await balena.auth.whoami();
	assert.equal(me.actorType, 'user');
	assert.equal(me.username, USERNAME);
	assert.equal(me.email, EMAIL);
	const info = await balena.auth.getUserInfo();
	assert.equal(info.id, me.actorTypeId);
	assert.equal(info.username, USERNAME);
	assert.equal(await balena.auth.getActorId(), me.id);
	assert.equal(await balena.auth.isLoggedIn(), true);
	assert.equal(await balena.auth.twoFactor.isEnabled(), false);
	s.userId = info.id;
	s.actorId = me.id;
});

await step('auth: login with the username', async () => {
	const other = sdk();
	await other.auth.login({ email: USERNAME, password: PASSWORD });
	assert.equal((await other.auth.whoami()).username, USERNAME);
});

await step('auth: the token refresh route answers a new token', [LOGIN], async () => {
	// The SDK refreshes a JWT older than a day through this route before a plain request
	// (clients.md §3); here through the SDK's own request layer, the answer used as it would.
	const { body } = await balena.request.send({ method: 'GET', url: '/user/v1/refresh-token', baseUrl: URL_ });
	assert.ok(typeof body === 'string' && body.split('.').length === 3, `a bare JWT: ${JSON.stringify(body)}`);
	const fresh = sdk();
	await fresh.auth.loginWithToken(body);
	assert.equal((await fresh.auth.whoami()).username, USERNAME);
});

// --- 2. config -------------------------------------------------------------------------

await step('config: getAll and the variable schema', async () => {
	const config = await models.config.getAll();
	assert.ok(config.deviceUrlsBase, `deviceUrlsBase in ${JSON.stringify(config)}`);
	const schema = await models.config.getConfigVarSchema();
	assert.ok(schema.reservedNamespaces.includes('BALENA_'), JSON.stringify(schema.reservedNamespaces));
	const pi = await models.config.getConfigVarSchema(PI);
	assert.ok('RESIN_HOST_CONFIG_gpu_mem' in pi.configVarSchema.properties);
});

await step('config: device type manifests (GET /device-types/v1)', [LOGIN], async () => {
	const manifests = await models.config.getDeviceTypes();
	const pi = manifests.find((m) => m.slug === PI);
	assert.ok(pi, manifests.map((m) => m.slug).join(' '));
	assert.equal(pi.name, 'Raspberry Pi 4 (using 64bit OS)');
	assert.equal(pi.arch, 'aarch64');
	const options = await models.config.getDeviceOptions(PI);
	assert.ok(Array.isArray(options), JSON.stringify(options));
});

// --- 3. device types -------------------------------------------------------------------

await step('device types: getAll, get by slug, alias, id and name', [LOGIN], async () => {
	const slugs = (await models.deviceType.getAll()).map((dt) => dt.slug);
	assert.ok(slugs.includes(PI) && slugs.includes(AMD), slugs.join(' '));
	const pi = await models.deviceType.get(PI, { $expand: { is_of__cpu_architecture: { $select: 'slug' } } });
	assert.equal(pi.name, 'Raspberry Pi 4 (using 64bit OS)');
	assert.equal(pi.is_of__cpu_architecture[0].slug, 'aarch64');
	assert.equal((await models.deviceType.get('raspberrypi2')).slug, 'raspberry-pi2');
	assert.equal((await models.deviceType.get(pi.id)).slug, PI);
	assert.equal((await models.deviceType.getBySlugOrName('Generic AMD64 (x86-64)')).slug, AMD);
	assert.equal(await models.deviceType.getName(PI), 'Raspberry Pi 4 (using 64bit OS)');
	assert.equal(await models.deviceType.getSlugByName('Generic AMD64 (x86-64)'), AMD);
	await rejects(models.deviceType.get('nope'), 'BalenaInvalidDeviceType', "get('nope')");
	s.piId = pi.id;
});

await step('device types: supported, instructions, install method', [LOGIN], async () => {
	const supported = (await models.deviceType.getAllSupported()).map((dt) => dt.slug);
	assert.ok(supported.includes(PI) && supported.includes(AMD), supported.join(' '));
	const lines = await models.deviceType.getInstructions(PI);
	assert.ok(Array.isArray(lines), JSON.stringify(lines));
	assert.equal(lines.length, 6, JSON.stringify(lines));
	assert.equal(lines[5], 'Connect power to the Raspberry Pi 4 (using 64bit OS) to boot the device.');
	assert.equal(await models.deviceType.getInstallMethod(PI), 'externalBoot');
	assert.equal(await models.deviceType.getInstallMethod(AMD), 'externalFlash');
});

// --- 4. organizations ------------------------------------------------------------------

const ORGS = 'organizations: getAll and get';

await step(ORGS, [LOGIN], async () => {
	const orgs = await models.organization.getAll();
	assert.ok(orgs.some((o) => o.handle === USERNAME), JSON.stringify(orgs));
	const org = await models.organization.get(USERNAME);
	assert.equal(org.handle, USERNAME);
	assert.equal((await models.organization.get(org.id)).handle, USERNAME);
	await rejects(models.organization.get('nope'), 'BalenaOrganizationNotFound', "get('nope')");
	s.orgId = org.id;
});

await step('organizations: create and remove', [ORGS], async () => {
	const acme = await models.organization.create({ name: 'Acme JS' });
	assert.equal(acme.handle, 'acme_js');
	assert.equal(acme.name, 'Acme JS');
	assert.ok((await models.organization.getAll()).some((o) => o.id === acme.id), 'listed: the creator is a member');
	await models.organization.remove(acme.id);
	await rejects(models.organization.get(acme.id), 'BalenaOrganizationNotFound', 'the removed one');
});

// --- 5. fleets -------------------------------------------------------------------------

const FLEETS = 'fleets: create three';

await step(FLEETS, [ORGS], async () => {
	const a = await models.application.create({ name: 'fleet-a', deviceType: PI, organization: USERNAME });
	assert.equal(a.slug, `${USERNAME}/fleet-a`);
	assert.deepEqual(a.is_for__device_type, { __id: s.piId });
	assert.deepEqual(a.organization, { __id: s.orgId });
	assert.equal(a.should_track_latest_release, true);
	assert.equal(a.uuid.length, 32);
	const b = await models.application.create({
		name: 'fleet-b', deviceType: AMD, organization: s.orgId, applicationClass: 'fleet',
	});
	assert.equal(b.slug, `${USERNAME}/fleet-b`);
	assert.equal(b.is_of__class, 'fleet');
	const c = await models.application.create({ name: 'fleet-c', deviceType: PI, organization: USERNAME });
	Object.assign(s, { a, b, c });
});

await step('fleets: get by slug, id, uuid and name', [FLEETS], async () => {
	const { a } = s;
	assert.equal((await models.application.get(a.slug)).id, a.id);
	assert.equal((await models.application.get(a.id)).slug, a.slug);
	assert.equal((await models.application.get(a.uuid)).id, a.id);
	assert.equal((await models.application.getAppByName('fleet-a')).id, a.id);
	assert.equal((await models.application.getDirectlyAccessible(a.slug)).id, a.id);
	assert.equal(await models.application.has(a.slug), true);
	assert.equal(await models.application.has(`${USERNAME}/nope`), false);
	assert.equal(await models.application.hasAny(), true);
	await rejects(models.application.get(`${USERNAME}/nope`), 'BalenaApplicationNotFound', 'get missing');
});

await step('fleets: getAll and by organization', [FLEETS], async () => {
	const names = (apps) => apps.map((x) => x.app_name).sort();
	// getAll has no access filter: the caller's fleets and the public host-OS fleets.
	const all = await models.application.getAll();
	assert.ok(['fleet-a', 'fleet-b', 'fleet-c'].every((n) => names(all).includes(n)), names(all).join(' '));
	assert.deepEqual(names(await models.application.getAllDirectlyAccessible()), ['fleet-a', 'fleet-b', 'fleet-c']);
	assert.deepEqual(names(await models.application.getAllByOrganization(USERNAME)), ['fleet-a', 'fleet-b', 'fleet-c']);
});

await step('fleets: rename, unknown device type, duplicate name', [FLEETS], async () => {
	await models.application.rename(s.c.slug, 'fleet-c2');
	const c2 = await models.application.get(s.c.id);
	assert.equal(c2.app_name, 'fleet-c2');
	assert.equal(c2.slug, `${USERNAME}/fleet-c2`);
	s.c = c2;
	await rejects(models.application.create({ name: 'fleet-x', deviceType: 'nope', organization: USERNAME }),
		'BalenaInvalidDeviceType', 'an unknown device type');
	const err = await rejects(models.application.create({ name: 'fleet-a', deviceType: PI, organization: USERNAME }),
		'BalenaRequestError', 'a duplicate name');
	assert.equal(err.statusCode, 409);
});

// --- 6. releases -----------------------------------------------------------------------

const RELEASES = 'releases: create two, get by commit, id and version';

await step(RELEASES, [FLEETS], async () => {
	const made = [];
	for (const [commit, semver] of [[C1, '1.0.0'], [C2, '1.1.0']]) {
		const r = await balena.pine.post({
			resource: 'release',
			body: {
				belongs_to__application: s.a.id, is_created_by__user: s.userId, commit, status: 'success',
				source: 'cloud', composition: {}, start_timestamp: new Date().toISOString(), semver,
			},
		});
		assert.equal(r.commit, commit);
		assert.deepEqual(r.belongs_to__application, { __id: s.a.id });
		made.push(r);
		await new Promise((done) => setTimeout(done, 10)); // distinct created_at, for the order
	}
	[s.r1, s.r2] = made;
	assert.equal((await models.release.get(C1)).id, s.r1.id);
	assert.equal((await models.release.get(s.r2.id)).commit, C2);
	assert.equal((await models.release.get({ application: s.a.id, rawVersion: '1.1.0' })).id, s.r2.id);
	await rejects(models.release.get('0'.repeat(32)), 'BalenaReleaseNotFound', 'an unknown commit');
});

await step('releases: by fleet, latest, finalize, note, known issues, validity', [RELEASES], async () => {
	const ids = (await models.release.getAllByApplication(s.a.slug)).map((r) => r.id);
	assert.deepEqual(ids, [s.r2.id, s.r1.id]);
	assert.equal((await models.release.getLatestByApplication(s.a.slug)).id, s.r2.id);
	await models.release.finalize(s.r1.id);
	await models.release.setNote(s.r1.id, 'first release');
	await models.release.setKnownIssueList(s.r1.id, 'none known');
	await models.release.setIsInvalidated(s.r1.id, false);
	const r1 = await models.release.get(s.r1.id);
	assert.deepEqual([r1.is_final, r1.note, r1.known_issue_list, r1.is_invalidated, r1.status],
		[true, 'first release', 'none known', false, 'success']);
	assert.equal(r1.raw_version, '1.0.0');
});

// --- 7. fleet pinning ------------------------------------------------------------------

await step('fleets: pin to a release and track the latest again', [RELEASES], async () => {
	const app = models.application;
	assert.equal(await app.isTrackingLatestRelease(s.a.slug), true);
	assert.equal(await app.getTargetReleaseHash(s.a.slug), C2);
	await app.pinToRelease(s.a.slug, C1);
	assert.equal(await app.getTargetReleaseHash(s.a.slug), C1);
	assert.equal(await app.willTrackNewReleases(s.a.slug), false);
	assert.equal(await app.isTrackingLatestRelease(s.a.slug), false);
	await app.trackLatestRelease(s.a.slug);
	assert.equal(await app.getTargetReleaseHash(s.a.slug), C2);
	assert.equal(await app.isTrackingLatestRelease(s.a.slug), true);
});

// --- 8. devices ------------------------------------------------------------------------

const REGISTER = 'devices: register two';
const DEVICES = 'devices: both readable';

await step(REGISTER, [FLEETS], async () => {
	s.uuid1 = models.device.generateUniqueKey();
	s.uuid2 = models.device.generateUniqueKey();
	assert.equal(s.uuid1.length, 32);
	const d1 = await models.device.register(s.a.slug, s.uuid1);
	assert.equal(d1.uuid, s.uuid1);
	assert.ok(Number.isInteger(d1.id) && d1.api_key, JSON.stringify(d1));
	const d2 = await models.device.register(s.a.slug, s.uuid2, PI);
	assert.equal(d2.uuid, s.uuid2);
	await rejects(models.device.register(s.a.slug, models.device.generateUniqueKey(), AMD),
		'BalenaInvalidDeviceType', 'an amd64 device in an aarch64 fleet');
});

await step(DEVICES, [FLEETS], async () => {
	if (!succeeded.has(REGISTER)) {
		// Registration is its own step (its failure shows there): the device steps below
		// still run, on devices a user may create through OData.
		s.uuid1 = models.device.generateUniqueKey();
		s.uuid2 = models.device.generateUniqueKey();
		for (const uuid of [s.uuid1, s.uuid2]) {
			await balena.pine.post({
				resource: 'device', body: { belongs_to__application: s.a.id, is_of__device_type: s.piId, uuid },
			});
		}
	}
	const uuids = (await models.device.getAllByApplication(s.a.slug)).map((d) => d.uuid).sort();
	assert.deepEqual(uuids, [s.uuid1, s.uuid2].sort());
	const d = await models.device.get(s.uuid1);
	assert.deepEqual(d.belongs_to__application, { __id: s.a.id });
	assert.deepEqual(d.is_of__device_type, { __id: s.piId });
	assert.ok(d.device_name, 'a generated name');
	s.deviceId = d.id;
	assert.equal((await models.device.get(d.id)).uuid, s.uuid1);
	assert.equal(await models.device.getName(s.uuid1), d.device_name);
	assert.equal(await models.device.has(s.uuid1), true);
	assert.equal(await models.device.has('0'.repeat(32)), false);
	await rejects(models.device.get('0'.repeat(32)), 'BalenaDeviceNotFound', 'get missing');
	const byOrg = (await models.device.getAllByOrganization(USERNAME)).map((x) => x.uuid).sort();
	assert.deepEqual(byOrg, [s.uuid1, s.uuid2].sort());
});

await step('devices: status, online, rename, note', [DEVICES], async () => {
	// Never seen: "configuring" (model.md §4.6 row 3).
	assert.equal(await models.device.getStatus(s.uuid1), 'configuring');
	assert.equal(await models.device.isOnline(s.uuid1), false);
	await models.device.rename(s.uuid1, 'js-dev-1');
	assert.equal(await models.device.getName(s.uuid1), 'js-dev-1');
	assert.deepEqual((await models.device.getByName('js-dev-1')).map((d) => d.uuid), [s.uuid1]);
	assert.equal(await models.device.getApplicationName(s.uuid1), 'fleet-a');
	await models.device.setNote(s.uuid1, 'on the bench');
	assert.equal((await models.device.get(s.uuid1)).note, 'on the bench');
});

await step('devices: move between fleets', [DEVICES], async () => {
	await models.device.move(s.uuid1, s.c.slug);
	assert.deepEqual((await models.device.get(s.uuid1)).belongs_to__application, { __id: s.c.id });
	try {
		await rejects(models.device.move(s.uuid1, s.b.slug), 'BalenaInvalidDeviceType', 'to an amd64 fleet');
	} finally {
		await models.device.move(s.uuid1, s.a.slug);
	}
	assert.deepEqual((await models.device.get(s.uuid1)).belongs_to__application, { __id: s.a.id });
});

await step('devices: pin to a release and track the fleet', [DEVICES, RELEASES], async () => {
	const dev = models.device;
	assert.equal(await dev.isTrackingApplicationRelease(s.uuid1), true);
	assert.equal(await dev.getTargetReleaseHash(s.uuid1), C2);
	await dev.pinToRelease(s.uuid1, C1);
	assert.equal(await dev.isTrackingApplicationRelease(s.uuid1), false);
	assert.equal(await dev.getTargetReleaseHash(s.uuid1), C1);
	await dev.trackApplicationRelease(s.uuid1);
	assert.equal(await dev.isTrackingApplicationRelease(s.uuid1), true);
	assert.equal(await dev.getTargetReleaseHash(s.uuid1), C2);
});

await step('devices: a device key logs in as the device', [DEVICES], async () => {
	const key = await models.device.generateDeviceKey(s.uuid1, 'js-key', 'the scenario\'s');
	assert.ok(typeof key === 'string' && key.length >= 20 && !key.includes(' '), key);
	const device = sdk();
	await device.auth.loginWithToken(key);
	const me = await device.auth.whoami();
	assert.deepEqual([me.actorType, me.uuid, me.actorTypeId], ['device', s.uuid1, s.deviceId]);
	const keys = await models.apiKey.getDeviceApiKeysByDevice(s.uuid1);
	assert.ok(keys.some((k) => k.name === 'js-key'), JSON.stringify(keys));
});

await step('devices and fleets: service details, metrics, device URLs, support access', [DEVICES, RELEASES], async () => {
	const dev = models.device;
	const withServices = await dev.getWithServiceDetails(s.uuid1);
	assert.equal(withServices.uuid, s.uuid1);
	assert.deepEqual(Object.keys(withServices.current_services_by_app), []); // nothing installed yet
	const metrics = await dev.getMetrics(s.uuid1);
	assert.ok('memory_usage' in metrics && 'cpu_temp' in metrics, JSON.stringify(metrics));
	assert.equal(await dev.getProgress(s.uuid1), null);
	assert.deepEqual(await dev.getMACAddresses(s.uuid1), []);
	// decisions.md: is_web_accessible stays false; turning it on is refused.
	assert.equal(await dev.hasDeviceUrl(s.uuid1), false);
	const refused = await rejects(dev.enableDeviceUrl(s.uuid1), 'BalenaRequestError', 'enableDeviceUrl');
	assert.equal(refused.statusCode, 403);
	const fleet = await models.application.getWithDeviceServiceDetails(s.a.slug);
	assert.equal(fleet.owns__device.length, 2);
	await models.application.grantSupportAccess(s.a.slug, Date.now() + 3600_000);
	const granted = await models.application.get(s.a.slug, { $select: 'is_accessible_by_support_until__date' });
	assert.ok(granted.is_accessible_by_support_until__date, JSON.stringify(granted));
	await models.application.revokeSupportAccess(s.a.slug);
	const release = await models.release.getWithImageDetails(s.r1.id);
	assert.deepEqual(release.images, []);
	assert.equal(release.user.username, USERNAME);
});

// --- 9. tags ---------------------------------------------------------------------------

async function tagRound(tags, parent, listAll) {
	const pairs = async () => (await listAll()).map((t) => [t.tag_key, t.value]);
	await tags.set(parent, 'colour', 'red');
	await tags.set(parent, 'size', 'L');
	assert.deepEqual(await pairs(), [['colour', 'red'], ['size', 'L']]);
	await tags.set(parent, 'colour', 'blue'); // the same key again: POST 409 "unique", then PATCH
	assert.deepEqual(await pairs(), [['colour', 'blue'], ['size', 'L']]);
	await tags.remove(parent, 'colour');
	await tags.remove(parent, 'size');
	assert.deepEqual(await pairs(), []);
}

await step('tags: fleet', [FLEETS], async () => {
	const { tags } = models.application;
	await tagRound(tags, s.a.slug, () => tags.getAllByApplication(s.a.slug));
});

await step('tags: device', [DEVICES], async () => {
	const { tags } = models.device;
	await tagRound(tags, s.uuid1, () => tags.getAllByDevice(s.uuid1));
	await tags.set(s.uuid2, 'where', 'lab');
	assert.deepEqual((await tags.getAllByApplication(s.a.slug)).map((t) => t.tag_key), ['where']);
	await tags.remove(s.uuid2, 'where');
});

await step('tags: release', [RELEASES], async () => {
	const { tags } = models.release;
	await tagRound(tags, s.r1.id, () => tags.getAllByRelease(s.r1.id));
	await tags.set(s.r2.id, 'stage', 'beta');
	assert.deepEqual((await tags.getAllByApplication(s.a.slug)).map((t) => t.tag_key), ['stage']);
	await tags.remove(s.r2.id, 'stage');
});

// --- 10. variables ---------------------------------------------------------------------

async function varRound(vars, parent, name, listAll) {
	await vars.set(parent, name, '1');
	assert.equal(await vars.get(parent, name), '1');
	assert.deepEqual((await listAll()).map((v) => [v.name, v.value]), [[name, '1']]);
	await vars.set(parent, name, '2'); // the same name again
	assert.equal(await vars.get(parent, name), '2');
	await vars.remove(parent, name);
	assert.equal(await vars.get(parent, name), undefined);
	assert.deepEqual(await listAll(), []);
}

await step('variables: fleet environment, config and build', [FLEETS], async () => {
	const app = models.application;
	const slug = s.a.slug;
	await varRound(app.envVar, slug, 'MY_VAR', () => app.envVar.getAllByApplication(slug));
	await varRound(app.configVar, slug, 'BALENA_HOST_CONFIG_gpu_mem', () => app.configVar.getAllByApplication(slug));
	await varRound(app.buildVar, slug, 'BUILD_VAR', () => app.buildVar.getAllByApplication(slug));
	const err = await rejects(app.envVar.set(slug, 'BALENA_X', '1'), 'BalenaRequestError', 'a reserved name');
	assert.equal(err.statusCode, 400);
});

await step('variables: device environment and config', [DEVICES], async () => {
	const dev = models.device;
	await varRound(dev.envVar, s.uuid1, 'DEV_VAR', () => dev.envVar.getAllByDevice(s.uuid1));
	await varRound(dev.configVar, s.uuid1, 'BALENA_HOST_CONFIG_gpu_mem', () => dev.configVar.getAllByDevice(s.uuid1));
	await dev.envVar.set(s.uuid2, 'OTHER', 'x');
	assert.deepEqual((await dev.envVar.getAllByApplication(s.a.slug)).map((v) => v.name), ['OTHER']);
	await dev.envVar.remove(s.uuid2, 'OTHER');
});

await step('variables: device service', [DEVICES], async () => {
	const service = await balena.pine.post({ resource: 'service', body: { application: s.a.id, service_name: 'main' } });
	await balena.pine.post({ resource: 'service_install', body: { device: s.deviceId, installs__service: service.id } });
	const vars = models.device.serviceVar;
	await vars.set(s.uuid1, 'main', 'S_VAR', '1');
	assert.equal(await vars.get(s.uuid1, 'main', 'S_VAR'), '1');
	await vars.set(s.uuid1, 'main', 'S_VAR', '2');
	assert.equal(await vars.get(s.uuid1, 'main', 'S_VAR'), '2');
	assert.deepEqual((await vars.getAllByDevice(s.uuid1)).map((v) => v.name), ['S_VAR']);
	await vars.remove(s.uuid1, 'main', 'S_VAR');
	assert.equal(await vars.get(s.uuid1, 'main', 'S_VAR'), undefined);
});

// --- 11. API keys and provisioning keys ------------------------------------------------

const API_KEY = 'api keys: create one and log in with it';

await step(API_KEY, [LOGIN], async () => {
	s.key = await models.apiKey.create({ name: 'k1', expiryDate: null, description: 'the scenario\'s key' });
	assert.ok(typeof s.key === 'string' && s.key.length >= 20 && !s.key.includes(' '), s.key);
	const other = sdk();
	await other.auth.loginWithToken(s.key);
	const me = await other.auth.whoami();
	assert.deepEqual([me.actorType, me.username], ['user', USERNAME]);
	assert.equal(await other.auth.isLoggedIn(), true);
});

await step('api keys: list and rename', [API_KEY], async () => {
	const k1 = (await models.apiKey.getAllNamedUserApiKeys()).find((k) => k.name === 'k1');
	assert.ok(k1, 'k1 listed');
	assert.equal(k1.description, 'the scenario\'s key');
	assert.deepEqual(k1.is_of__actor, { __id: s.actorId });
	assert.equal(k1.key, undefined, 'the secret is never read back');
	await models.apiKey.update(k1.id, { name: 'k1b', description: 'renamed' });
	const names = (await models.apiKey.getAll()).map((k) => k.name);
	assert.ok(names.includes('k1b') && !names.includes('k1'), names.join(' '));
	s.keyId = k1.id;
});

await step('provisioning keys: generate one and log in as the fleet', [FLEETS], async () => {
	const key = await models.application.generateProvisioningKey({
		slugOrUuidOrId: s.a.slug, keyExpiryDate: '2099-01-01T00:00:00.000Z', keyName: 'prov', keyDescription: 'the scenario\'s',
	});
	assert.ok(typeof key === 'string' && key.length >= 20 && !key.includes(' '), key);
	const fleet = sdk();
	await fleet.auth.loginWithToken(key);
	const me = await fleet.auth.whoami();
	assert.deepEqual([me.actorType, me.actorTypeId, me.slug], ['application', s.a.id, s.a.slug]);
	const keys = await models.apiKey.getProvisioningApiKeysByApplication(s.a.slug);
	assert.ok(keys.some((k) => k.name === 'prov'), JSON.stringify(keys));
});

await step('os: getConfig for an image of a fleet', [FLEETS], async () => {
	const config = await models.os.getConfig(s.a.slug, { version: '6.0.13', appUpdatePollInterval: 15 });
	assert.deepEqual([config.applicationId, config.appUpdatePollInterval, config.apiEndpoint],
		[s.a.id, 15 * 60000, URL_]);
	const fleet = sdk();
	await fleet.auth.loginWithToken(config.apiKey); // a provisioning key of the fleet
	assert.equal((await fleet.auth.whoami()).actorTypeId, s.a.id);
});

await step('api keys: a revoked key logs in no more', ['api keys: list and rename'], async () => {
	await models.apiKey.revoke(s.keyId);
	const other = sdk();
	await other.auth.loginWithToken(s.key);
	assert.equal(await other.auth.isLoggedIn(), false);
	assert.ok(!(await models.apiKey.getAll()).some((k) => k.id === s.keyId), 'gone from the list');
});

// --- 12. SSH keys ----------------------------------------------------------------------

await step('ssh keys: create, list, get, remove', [LOGIN], async () => {
	const pub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKrQ1f0mNq1VSTXh8P0k6mVN6iJp1oHNXP2t9bDbYl9y js@scenario';
	const key = await models.key.create('js-key', pub);
	assert.deepEqual([key.title, key.public_key], ['js-key', pub]);
	assert.deepEqual((await models.key.getAll()).map((k) => k.title), ['js-key']);
	assert.equal((await models.key.get(key.id)).public_key, pub);
	await models.key.remove(key.id);
	assert.deepEqual(await models.key.getAll(), []);
});

// --- 13. clean-up ----------------------------------------------------------------------

await step('clean-up: devices and fleets removed, logout', [FLEETS], async () => {
	if (succeeded.has(DEVICES)) {
		await models.device.remove(s.uuid2);
		assert.equal(await models.device.has(s.uuid2), false);
	}
	await models.application.remove(s.a.slug); // with its releases and its remaining device
	await models.application.remove(s.b.id);
	await models.application.remove(s.c.id);
	assert.equal(await models.application.hasAny(), false);
	if (succeeded.has(DEVICES)) assert.equal(await models.device.has(s.uuid1), false);
	await balena.auth.logout();
	assert.equal(await balena.auth.isLoggedIn(), false);
});

"""Who may read and write what: the rule sets of the callers, as OData filters.

Part of `auth/`; the engine compiles these into every statement (DESIGN.md "Permissions").
Every rule of the balena model is in this module and nowhere else. A rule set is a
`Permissions` with a stable `key` (all users share "user": their actor is a bind,
`@__ACTOR_ID`, so they share compiled statements too).

- superuser: everything (`Permissions.all()`).
- user (spec/model.md §5.3, decisions.md): reads the fleets of their organizations, the
  fleets they are a member of, and public fleets (read-only; their releases, images and
  services, never their devices). Writes follow the role: an organization's administrator
  does everything in it (fleets, members); a fleet's developer changes the fleet, its
  variables, tags and releases; an operator its devices and what hangs off them; an
  observer and a plain organization member only read.
- device key (§5.2): its own device and what hangs off it, its fleet's configuration and
  releases; provisioning key: creates devices in its own fleet.
- guest (no credentials): the catalogue, public fleets with their releases, release tags,
  images and services (spec/decisions.md "Anonymous callers"); everything else is a 401.
  Every key has the guest's rights too, as in the reference.
- key routes' checks (`ACTIONS`): who may make keys for which fleet, device or user.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fleetyard.odata.permissions import Permissions

ACTOR = "@__ACTOR_ID"

ADMINISTRATOR, MEMBER = "administrator", "member"
ORGANIZATION_ROLES = (ADMINISTRATOR, MEMBER)
DEVELOPER, OPERATOR, OBSERVER = "developer", "operator", "observer"
FLEET_ROLES = (DEVELOPER, OPERATOR, OBSERVER)

# Readable by everyone, signed in or not.
CATALOGUE = (
    "device_type", "device_type_alias", "cpu_architecture", "device_family",
    "device_manufacturer", "application_type",
)

# Each fleet-owned resource and the navigations from it to its fleet (application).
FLEET_PATHS: dict[str, tuple[str, ...]] = {
    "application": (),
    "application_environment_variable": ("application",),
    "application_config_variable": ("application",),
    "application_tag": ("application",),
    "build_environment_variable": ("application",),
    "service": ("application",),
    "service_label": ("service", "application"),
    "service_environment_variable": ("service", "application"),
    "device": ("belongs_to__application",),
    "device_environment_variable": ("device", "belongs_to__application"),
    "device_config_variable": ("device", "belongs_to__application"),
    "device_tag": ("device", "belongs_to__application"),
    "image_install": ("device", "belongs_to__application"),
    "service_install": ("device", "belongs_to__application"),
    "device_service_environment_variable": ("service_install", "device", "belongs_to__application"),
    "release": ("belongs_to__application",),
    "release_tag": ("release", "belongs_to__application"),
    "release_asset": ("release", "belongs_to__application"),
    "release_image": ("is_part_of__release", "belongs_to__application"),
    "image": ("is_a_build_of__service", "application"),
    "image_label": ("release_image", "is_part_of__release", "belongs_to__application"),
    "image_environment_variable": ("release_image", "is_part_of__release", "belongs_to__application"),
}

# What an operator changes (§5.3: devices, their tags, variables and installs); the rest
# of a fleet's rows are a developer's. Creating and deleting fleets is an administrator's.
DEVICE_SIDE = ("device", "device_environment_variable", "device_config_variable", "device_tag",
               "image_install", "service_install", "device_service_environment_variable")

# Fleet-owned resources whose public fleets' rows anyone may read (decisions.md).
PUBLIC = ("application", "release", "release_tag", "release_image", "image", "service")

# Written by the domain layer only: a user reads their fleets' history, never writes it.
READ_ONLY = {"device_history": ("belongs_to__application",)}

# The rows under one device, and the way from each to it (device keys, §5.2).
DEVICE_PATHS: dict[str, tuple[str, ...]] = {
    "device_environment_variable": ("device",),
    "device_config_variable": ("device",),
    "device_tag": ("device",),
    "image_install": ("device",),
    "service_install": ("device",),
    "device_service_environment_variable": ("service_install", "device"),
}


# --- building blocks: predicates over one row, `p` the path to it ("" or "x/") ----------

Predicate = Callable[[str], str]


def is_me(p: str = "") -> str:
    """Over a user: the caller."""
    return f"{p}actor eq {ACTOR}"


def org_member(p: str = "") -> str:
    """Over an organization: the caller is one of its members."""
    return f"{p}includes__user/any(om:om/user/any(ou:{is_me('ou/')}))"


def org_admin(p: str = "") -> str:
    """Over an organization: the caller administers it."""
    return (f"{p}includes__user/any(oa:oa/user/any(oau:{is_me('oau/')}) and "
            f"oa/organization_membership_role/any(oar:oar/name eq '{ADMINISTRATOR}'))")


def fleet_member(p: str = "", roles: Sequence[str] = FLEET_ROLES) -> str:
    """Over an application: the caller is a member of the fleet, in one of `roles`."""
    me = f"fm/user/any(fmu:{is_me('fmu/')})"
    if tuple(roles) != FLEET_ROLES:
        names = " or ".join(f"fmr/name eq '{r}'" for r in roles)
        me += f" and fm/application_membership_role/any(fmr:{names})"
    return f"{p}includes__user/any(fm:{me})"


def fleet_admin(p: str = "") -> str:
    """Over an application: the caller administers its organization."""
    return f"{p}organization/any(fa:{org_admin('fa/')})"


def own_fleet(p: str = "") -> str:
    """Over an application: one of the caller's organizations owns it, or the caller is
    one of its members (decisions.md: what `is_directly_accessible_by__user` lists)."""
    return f"({p}organization/any(fo:{org_member('fo/')}) or {fleet_member(p)})"


def developer(p: str = "") -> str:
    return f"({fleet_admin(p)} or {fleet_member(p, (DEVELOPER,))})"


def operator(p: str = "") -> str:
    return f"({fleet_admin(p)} or {fleet_member(p, (DEVELOPER, OPERATOR))})"


def public_fleet(p: str = "") -> str:
    return f"{p}is_public eq true"


def own_or_public_fleet(p: str = "") -> str:
    return f"({own_fleet(p)} or {public_fleet(p)})"


def through(path: Sequence[str], predicate: Predicate, p: str = "") -> str:
    """`predicate` over the row that `path` leads to from the rule's own row (or from the
    row at `p`)."""
    if not path:
        return predicate(p)
    inner = predicate(f"n{len(path)}/")
    for depth in range(len(path), 0, -1):
        inner = f"{path[depth - 1]}/any(n{depth}:{inner})"
        if depth > 1:
            inner = f"n{depth - 1}/{inner}"
    return p + inner


# --- the rule sets -----------------------------------------------------------------------

ALL_ACTIONS = ("read", "create", "update", "delete")
Rules = dict[str, dict[str, bool | str]]


def union(*sets: Rules) -> Rules:
    """Every right any of the sets grants: rules of one resource and action are or-ed."""
    out: Rules = {}
    for rules in sets:
        for resource, actions in rules.items():
            mine = out.setdefault(resource, {})
            for action, rule in actions.items():
                had = mine.get(action, False)
                if had is True or rule is True:
                    mine[action] = True
                elif had is False:
                    mine[action] = rule
                elif rule is not False:
                    mine[action] = f"({had}) or ({rule})"
    return out


def _guest_rules() -> Rules:
    rules: Rules = {name: {"read": True} for name in CATALOGUE}
    for name in PUBLIC:
        rules[name] = {"read": through(FLEET_PATHS[name], public_fleet)}
    return rules


def co_member(p: str = "") -> str:
    """Over a user: the caller, or a member of one of the caller's organizations."""
    return (f"({is_me(p)} or {p}organization_membership/any(uo:uo/is_member_of__organization"
            f"/any(uoo:{org_member('uoo/')})))")


def user_reads(resource: str) -> Predicate | None:
    """What a user reads of a resource their rows may point at, over the row at `p`."""
    if resource in FLEET_PATHS:
        fleets = own_or_public_fleet if resource in PUBLIC else own_fleet
        return lambda p: through(FLEET_PATHS[resource], fleets, p)
    return {"user": co_member, "organization": org_member}.get(resource)


def references_readable(resource: str) -> str:
    """Every foreign key of a row one writes points at nothing or at a row one may read:
    a row of one's own never names another tenant's (which would also tell that it
    exists). The key the rule itself follows to the fleet is checked by the rule (a
    fleet's organization: by its create rule and `auth/hooks.py` `FleetMoves`); actors
    are the server's to set."""
    from fleetyard.model.balena import MODEL

    path = FLEET_PATHS.get(resource, ()) or ("organization",)
    conds = []
    for f in MODEL.resource(resource).fields:
        target = f.references
        reads = user_reads(target) if target is not None and target != "actor" else None
        if reads is None or (path and f.name == path[0]) or not f.is_writable:
            continue
        conds.append(f"({f.name} eq null or {f.name}/any(fk:{reads('fk/')}))")
    return " and ".join(conds)


def _fleet_rules() -> Rules:
    """A user's rights on fleets and everything they own, by role."""
    rules: Rules = {}
    for name, path in FLEET_PATHS.items():
        writer = operator if name in DEVICE_SIDE else developer
        change = through(path, writer)
        if refs := references_readable(name):
            change = f"{change} and {refs}"
        rules[name] = {"read": through(path, own_or_public_fleet if name in PUBLIC else own_fleet),
                       "create": change, "update": change, "delete": change}
    rules["application"].update(create=f"{fleet_admin()} and {references_readable('application')}",
                                delete=fleet_admin())
    for name, path in READ_ONLY.items():
        rules[name] = {"read": through(path, own_fleet)}
    return rules


def _account_rules() -> Rules:
    mine = f"user/any(mu:{is_me('mu/')})"
    admin_of_org = f"is_member_of__organization/any(mo:{org_admin('mo/')})"
    admin_of_fleet = f"is_member_of__application/any(ma:{fleet_admin('ma/')})"
    # Keys of the fleets and devices one operates (provisioning and device keys).
    fleet_keys = (f"is_of__actor/any(ka:ka/is_of__application/any(kf:{operator('kf/')}) or "
                  f"ka/is_of__device/any(kd:kd/belongs_to__application/any(kdf:{operator('kdf/')})))")
    keys = f"is_of__actor eq {ACTOR} or {fleet_keys}"
    return {
        "organization": {"read": org_member(), "create": True, "update": org_admin(), "delete": org_admin()},
        "organization_membership": {
            "read": f"is_member_of__organization/any(mo:{org_member('mo/')})",
            "create": admin_of_org, "update": admin_of_org,
            "delete": f"{admin_of_org} or {mine}",  # one may always leave
        },
        "organization_membership_role": {"read": True},
        "application_membership_role": {"read": True},
        "user_application_membership": {
            "read": f"{mine} or is_member_of__application/any(ma:{own_fleet('ma/')})",
            "create": admin_of_fleet, "update": admin_of_fleet, "delete": f"{admin_of_fleet} or {mine}",
        },
        # Themselves and the members of their organizations (§5.3: co-members).
        "user": {"read": co_member()},
        "actor": {"read": f"id eq {ACTOR} or is_of__application/any(aa:{own_fleet('aa/')})"
                          f" or is_of__device/any(ad:ad/belongs_to__application/any(ada:{own_fleet('ada/')}))"},
        # Keys are created by the key routes only (device-api.md §2); `key` is never readable.
        "api_key": {"read": keys, "update": keys, "delete": keys},
        "user_public_key": {action: mine for action in ALL_ACTIONS},
        "user__has_direct_access_to__application": {"read": mine},
        "service_instance": {"read": "service_type eq 'vpn'"},
    }


def _user_rules() -> Rules:
    return union({name: {"read": True} for name in CATALOGUE}, _fleet_rules(), _account_rules())


# --- keys (spec/model.md §5.2, device-api.md §0.3) ----------------------------------------


def my_device(p: str = "") -> str:
    """Over a device: the calling device itself."""
    return f"{p}actor eq {ACTOR}"


def my_devices_fleet(p: str = "") -> str:
    """Over an application: the calling device's fleet."""
    return f"{p}owns__device/any(kd:{my_device('kd/')})"


def _device_key_rules() -> Rules:
    def fleet_or_public(p: str) -> str:
        return f"({my_devices_fleet(p)} or {public_fleet(p)})"

    rules: Rules = {"device": {"read": my_device(), "update": my_device()}}
    # Its fleet's configuration, services and releases, read-only.
    for name, path in FLEET_PATHS.items():
        if name not in DEVICE_SIDE and name not in DEVICE_PATHS:
            rules[name] = {"read": through(path, my_devices_fleet)}
    rules["release"]["read"] = (f"{rules['release']['read']} or is_pinned_to__device/any(rp:{my_device('rp/')})"
                                f" or should_operate__device/any(ro:{my_device('ro/')})"
                                f" or should_manage__device/any(rm:{my_device('rm/')})")
    rules["image"]["read"] = f"{rules['image']['read']} or image_install/any(ii:ii/device/any(iid:{my_device('iid/')}))"
    for name, path in DEVICE_PATHS.items():
        rules[name] = {action: through(path, my_device) for action in ALL_ACTIONS}
    rules["device_history"] = {"read": through(("tracks__device",), my_device)}
    rules["actor"] = {"read": f"id eq {ACTOR}"}
    del rules["device_config_variable"]["delete"]  # §5.2: create and update only
    del rules["image_install"]["delete"]  # decisions.md: never delete
    # Installs of services and images of its own fleet or a public one (host OS, supervisor).
    rules["service_install"]["create"] = (
        f"{through(('device',), my_device)} and installs__service/any(s:s/application/any(sa:"
        f"{fleet_or_public('sa/')}))")
    rules["image_install"]["create"] = (
        f"{through(('device',), my_device)} and installs__image/any(i:i/is_part_of__release/any(iri:"
        f"iri/is_part_of__release/any(ir:ir/belongs_to__application/any(ira:{fleet_or_public('ira/')}))))")
    # The public keys of the people who may reach it (the reference: everyone's, for SSH).
    rules["user_public_key"] = {"read": (
        "user/any(pu:pu/organization_membership/any(po:po/is_member_of__organization/any(poo:"
        f"poo/application/any(pa:{my_devices_fleet('pa/')}))) or "
        f"pu/user_application_membership/any(pm:pm/is_member_of__application/any(pma:{my_devices_fleet('pma/')})))")}
    return rules


def _provisioning_key_rules() -> Rules:
    """A fleet's key: it registers devices into its own fleet and reads that fleet."""
    mine = f"actor eq {ACTOR}"
    return {"device": {"create": f"belongs_to__application/any(pa:pa/{mine})"},
            "application": {"read": mine}}


# --- the checks of the key routes (device-api.md §2: `create-<role>` on the actor) -------

# Each: the resource whose row the key is for, and who may make such a key for it.
ACTIONS: dict[str, tuple[str, str]] = {
    "named-user-api-key": ("user", is_me()),
    "provisioning-api-key": ("application", operator()),
    "device-api-key": ("device", through(("belongs_to__application",), operator)),
}


def action(role: str) -> Permissions:
    """The rule set that reads the rows a user may make a `role` key for."""
    resource, rule = ACTIONS[role]
    return Permissions({resource: {"read": rule}}, key=f"create-{role}")


GUEST_RULES = _guest_rules()
GUEST = Permissions(GUEST_RULES, key="guest")
USER = Permissions(_user_rules(), key="user")
DEVICE = Permissions(union(GUEST_RULES, _device_key_rules()), key="device")
PROVISIONING = Permissions(union(GUEST_RULES, _provisioning_key_rules()), key="provisioning")
SUPERUSER = Permissions.all()

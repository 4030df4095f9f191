"""Typed views of the progressive-delivery objects that drive Istio traffic splits.

A Flagger ``Canary`` (``flagger.app``) generates the VirtualService ``<service>`` and the
DestinationRules ``<service>-primary`` / ``<service>-canary`` and moves their weights itself; an
Argo ``Rollout`` (``argoproj.io``) rewrites the weights of the VirtualService routes it names and
may set the subsets of one DestinationRule. Both put their progress in ``status``; these views
read it the way the projects' own tools print it (``kubectl argo rollouts get``: Step, SetWeight,
ActualWeight; ``kubectl get canary``: Status, Weight, FailedChecks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.model.base import Raw, Resource, as_bool, as_dict, as_int, as_list, as_str, as_strs, meta_fields

FLAGGER_GROUP = "flagger.app"
ARGO_GROUP = "argoproj.io"


@dataclass(frozen=True, slots=True, kw_only=True)
class FlaggerCanary(Resource):
    """A Flagger Canary: the workload it releases, the service it routes and how far it got."""

    target_kind: str | None
    target_name: str | None
    provider: str | None  # spec.provider: "istio", "gatewayapi:v1" (Flagger's Gateway API provider), ...
    service_name: str | None  # spec.service.name; Flagger defaults it to the target's name
    service_port: int | None
    hosts: list[str]
    gateways: list[str]
    step_weight: int | None
    max_weight: int | None
    threshold: int | None  # failed checks before a rollback
    phase: str | None  # Initializing, Initialized, Waiting, Progressing, Promoting, Finalising, Succeeded, Failed
    canary_weight: int | None
    failed_checks: int | None
    iterations: int | None

    @property
    def apex_name(self) -> str:
        """The name of the Service and VirtualService Flagger routes (``GetServiceNames``)."""
        return self.service_name or self.target_name or self.name

    @property
    def drives_gateway_api(self) -> bool:
        """Whether Flagger's Gateway API provider routes this canary: it then generates an
        HTTPRoute named :attr:`apex_name` and sets its backendRef weights."""
        return (self.provider or "").startswith("gatewayapi")

    @property
    def primary_name(self) -> str:
        """The primary Service / DestinationRule: ``<apex>-primary``."""
        return f"{self.apex_name}-primary"

    @property
    def canary_name(self) -> str:
        """The canary Service / DestinationRule: ``<apex>-canary``."""
        return f"{self.apex_name}-canary"

    @property
    def summary(self) -> str:
        """One line of status, e.g. ``Flagger Canary ns/name: Progressing, canary weight 10 %, …``."""
        parts = [self.phase or "no status yet"]
        if self.canary_weight is not None:
            parts.append(f"canary weight {self.canary_weight} %")
        if self.failed_checks is not None:
            parts.append(f"failed checks {self.failed_checks}")
        if self.iterations is not None:
            parts.append(f"iteration {self.iterations}")
        return f"Flagger Canary {self.namespace}/{self.name}: " + ", ".join(parts)

    @classmethod
    def parse(cls, raw: Raw) -> FlaggerCanary:
        """Read a flagger.app Canary (tolerant; ``canaryAnalysis`` is the pre-1.0 name of ``analysis``)."""
        spec = as_dict(raw.get("spec"))
        target = as_dict(spec.get("targetRef"))
        service = as_dict(spec.get("service"))
        analysis = as_dict(spec.get("analysis") or spec.get("canaryAnalysis"))
        status = as_dict(raw.get("status"))
        return cls(
            **meta_fields(raw),
            target_kind=as_str(target.get("kind")), target_name=as_str(target.get("name")),
            provider=as_str(spec.get("provider")),
            service_name=as_str(service.get("name")), service_port=as_int(service.get("port")),
            hosts=as_strs(service.get("hosts")), gateways=as_strs(service.get("gateways")),
            step_weight=as_int(analysis.get("stepWeight")), max_weight=as_int(analysis.get("maxWeight")),
            threshold=as_int(analysis.get("threshold")),
            phase=as_str(status.get("phase")), canary_weight=as_int(status.get("canaryWeight")),
            failed_checks=as_int(status.get("failedChecks")), iterations=as_int(status.get("iterations")),
        )


@dataclass(frozen=True, slots=True)
class RolloutVirtualService:
    """A VirtualService an Argo Rollout re-weights: ``name`` or ``name.namespace``, and the
    http route names it edits (empty: the only route)."""

    name: str
    namespace: str | None
    routes: list[str]


@dataclass(frozen=True, slots=True)
class RolloutDestinationRule:
    """The DestinationRule whose subsets an Argo Rollout points at its stable and canary pods."""

    name: str
    canary_subset: str | None
    stable_subset: str | None


#: The name Argo Rollouts' Gateway API traffic-router plugin is registered under.
GATEWAY_API_PLUGIN = "argoproj-labs/gatewayAPI"


def _plugin_routes(plugin: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """The routes of the Gateway API plugin's config: ``httpRoute``/``grpcRoute`` (a name, or
    ``{name, namespace}``) and the ``httpRoutes``/``grpcRoutes`` lists; ``namespace`` applies."""
    ns = as_str(plugin.get("namespace"))
    out: list[tuple[str, str | None, str]] = []
    for kind, one, many in (("HTTPRoute", "httpRoute", "httpRoutes"), ("GRPCRoute", "grpcRoute", "grpcRoutes")):
        for item in [plugin.get(one)] + as_list(plugin.get(many)):
            name = as_str(item) if isinstance(item, str) else as_str(as_dict(item).get("name"))
            if name:
                item_ns = as_str(as_dict(item).get("namespace")) if isinstance(item, dict) else None
                out.append((kind, item_ns or ns, name))
    return out


def _vs_ref(value: Any) -> RolloutVirtualService | None:
    d = as_dict(value)
    ref = as_str(d.get("name"))
    if not ref:
        return None
    # Argo Rollouts reads "name.namespace" (istioutil.GetVirtualServiceNamespaceName).
    name, _, namespace = ref.partition(".")
    return RolloutVirtualService(name, namespace.split(".")[0] or None, as_strs(d.get("routes")))


@dataclass(frozen=True, slots=True, kw_only=True)
class ArgoRollout(Resource):
    """An Argo Rollout with the canary strategy: its steps, the Istio objects it drives, its progress."""

    strategy: str | None  # "Canary", "BlueGreen" or None
    steps: list[dict[str, Any]]
    canary_service: str | None
    stable_service: str | None
    virtual_services: list[RolloutVirtualService]
    destination_rule: RolloutDestinationRule | None
    #: (kind, namespace or None, name) of the routes the Gateway API plugin
    #: (``argoproj-labs/gatewayAPI``) sets the weights of: HTTPRoute / GRPCRoute.
    gateway_api_routes: list[tuple[str, str | None, str]]
    current_step_index: int | None
    aborted: bool
    phase: str | None  # status.phase (Argo Rollouts >= 1.2): Healthy, Progressing, Paused, Degraded
    canary_weight: int | None  # status.canary.weights.canary.weight: what the mesh was told
    stable_weight: int | None

    @property
    def step(self) -> str | None:
        """``"2/4"`` (current step index / number of steps), as ``kubectl argo rollouts`` prints it."""
        if self.current_step_index is None or not self.steps:
            return None
        return f"{self.current_step_index}/{len(self.steps)}"

    @property
    def set_weight(self) -> int | None:
        """The weight the current step asks for (Argo's ``GetCurrentSetWeight``): 0 when aborted,
        100 past the last step, else the nearest ``setWeight`` at or before the current step."""
        if self.strategy != "Canary":
            return None
        if self.aborted:
            return 0
        index = self.current_step_index or 0
        if not self.steps or index >= len(self.steps):
            return 100
        for step in reversed(self.steps[: index + 1]):
            weight = as_int(as_dict(step).get("setWeight"))
            if weight is not None:
                return weight
        return 0

    @property
    def actual_weight(self) -> int | None:
        """The canary weight in effect (``status.canary.weights``); None when not reported."""
        return self.canary_weight

    @property
    def summary(self) -> str:
        """One line of status, e.g. ``Argo Rollout ns/name: step 2/4, setWeight 20 %, actual 20 %``."""
        parts = []
        if self.phase:
            parts.append(self.phase)
        if self.aborted:
            parts.append("aborted")
        if self.step:
            parts.append(f"step {self.step}")
        if self.set_weight is not None:
            parts.append(f"setWeight {self.set_weight} %")
        if self.actual_weight is not None:
            parts.append(f"actual {self.actual_weight} %")
        return f"Argo Rollout {self.namespace}/{self.name}: " + (", ".join(parts) or "no status yet")

    @classmethod
    def parse(cls, raw: Raw) -> ArgoRollout:
        """Read an argoproj.io Rollout (tolerant)."""
        spec = as_dict(raw.get("spec"))
        strategy = as_dict(spec.get("strategy"))
        canary = as_dict(strategy.get("canary"))
        istio = as_dict(as_dict(canary.get("trafficRouting")).get("istio"))
        refs = [_vs_ref(istio.get("virtualService"))] if istio.get("virtualService") else []
        refs += [_vs_ref(v) for v in as_list(istio.get("virtualServices"))]
        dr = as_dict(istio.get("destinationRule"))
        plugin = as_dict(as_dict(as_dict(canary.get("trafficRouting")).get("plugins")).get(GATEWAY_API_PLUGIN))
        status = as_dict(raw.get("status"))
        weights = as_dict(as_dict(status.get("canary")).get("weights"))
        return cls(
            **meta_fields(raw),
            strategy="Canary" if "canary" in strategy else ("BlueGreen" if "blueGreen" in strategy else None),
            steps=[as_dict(s) for s in as_list(canary.get("steps"))],
            canary_service=as_str(canary.get("canaryService")), stable_service=as_str(canary.get("stableService")),
            virtual_services=[r for r in refs if r is not None],
            destination_rule=(RolloutDestinationRule(dr["name"], as_str(dr.get("canarySubsetName")),
                                                     as_str(dr.get("stableSubsetName")))
                              if as_str(dr.get("name")) else None),
            gateway_api_routes=_plugin_routes(plugin),
            current_step_index=as_int(status.get("currentStepIndex")),
            aborted=bool(as_bool(status.get("abort"))),
            phase=as_str(status.get("phase")),
            canary_weight=as_int(as_dict(weights.get("canary")).get("weight")),
            stable_weight=as_int(as_dict(weights.get("stable")).get("weight")),
        )

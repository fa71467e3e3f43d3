"""The SAM templates as the tests read them: template.yaml (the map) and the nested stacks it makes, with
CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...) as their long forms."""

import fnmatch

import yaml
from api_helpers import ROOT


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...) as their long forms."""


def _intrinsic(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref": value} if suffix == "Ref" else {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load(path: str) -> dict:
    return yaml.load((ROOT / path).read_text(), Loader=CfnLoader)


def _as_text(value: dict) -> str:
    """An output's value as a name inside Fn::Sub: {"Ref": "X"} as X, {"Fn::GetAtt": "X.Attr"} as X.Attr."""
    return value["Ref"] if "Ref" in value else value["Fn::GetAtt"]


def _inline_outputs(node, stack: str, nested: dict):
    """`node` with each reference to the outputs of nested stack `stack` replaced by the output's value."""
    outputs = {name: output["Value"] for name, output in nested["Outputs"].items()}
    prefix = f"{stack}.Outputs."
    if isinstance(node, list):
        return [_inline_outputs(item, stack, nested) for item in node]
    if not isinstance(node, dict):
        return node
    attribute = node.get("Fn::GetAtt")
    attribute = ".".join(attribute) if isinstance(attribute, list) else attribute
    if isinstance(attribute, str) and attribute.startswith(prefix):
        return outputs[attribute.removeprefix(prefix)]
    if isinstance(node.get("Fn::Sub"), str) and "${" + prefix in node["Fn::Sub"]:
        text = node["Fn::Sub"]
        for name, value in outputs.items():
            text = text.replace("${" + prefix + name + "}", "${" + _as_text(value) + "}")
        assert "${" + prefix not in text, f"{text}: no such output of {stack}"
        return {"Fn::Sub": text}
    return {key: _inline_outputs(value, stack, nested) for key, value in node.items()}


TEMPLATE = load("template.yaml")
# The edge: the nested stack `Edge` (the secret header, its authorizer, the /api path function, origin access
# control, the site's headers). The main stack names its outputs, each one resource's Ref or attribute: they read
# here as that Ref or attribute (Edge.Outputs.OriginVerifyFunctionArn as OriginVerifyFunction.Arn), so that the
# main template reads as it would with the edge's resources in it.
EDGE_STACK = TEMPLATE["Resources"]["Edge"]
EDGE = load(EDGE_STACK["Properties"]["Location"])
TEMPLATE["Resources"] = _inline_outputs(TEMPLATE["Resources"], "Edge", EDGE)
# Users' own styles: the nested stack `Training`, made only when TrainingOn. Its parameters are named after what
# the main stack passes them (StyleApi, OriginVerifySecret, RuntimeLayer, ...), so its resources read as they
# would in one template.
TRAINING = load(TEMPLATE["Resources"]["Training"]["Properties"]["Location"])
# The video stack takes the training stack's authorizer: Training.Outputs.JobsAuthorizer reads as its Ref.
TEMPLATE["Resources"] = _inline_outputs(TEMPLATE["Resources"], "Training", TRAINING)
TRAINING_STACK = TEMPLATE["Resources"]["Training"]
# The alarms and the budget: the nested stack `Alarms`, given the functions' names and the API's id.
ALARMS_STACK = TEMPLATE["Resources"]["Alarms"]
ALARMS = load(ALARMS_STACK["Properties"]["Location"])
# Video jobs: the nested stack `Video`, made only when VideoOn (video needs training: its users are the training
# stack's, behind its authorizer).
VIDEO_STACK = TEMPLATE["Resources"]["Video"]
VIDEO = load(VIDEO_STACK["Properties"]["Location"])
NESTED = [TRAINING, ALARMS, EDGE, VIDEO]
# Every resource by its logical id, whichever stack makes it (the ids are unique across the stacks).
RESOURCES = {name: resource for template in (TEMPLATE, *NESTED) for name, resource in template["Resources"].items()}
assert len(RESOURCES) == sum(len(template["Resources"]) for template in (TEMPLATE, *NESTED))


def passes_its_own(stack: dict) -> bool:
    """Whether the main stack passes each of a nested stack's parameters from what it names: a parameter called
    StyleApi is the main stack's StyleApi, so that the nested template reads as it would in one template."""
    return all(value in ({"Ref": name}, {"Fn::GetAtt": f"{name}.Arn"}) for name, value in
               stack["Properties"]["Parameters"].items() if name in RESOURCES or name in TEMPLATE["Parameters"])


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def resources_of(statement: dict, aliases: dict | None = None) -> list[str]:
    """An IAM statement's resources as text: Fn::Sub strings as written, Ref and GetAtt as ${NAME} and
    ${NAME.Attr}. `aliases` rewrites a nested stack's parameter to what the main stack passes it (a stack's
    StylesBucketArn reads as ${StylesBucket.Arn})."""
    text = []
    for resource in as_list(statement["Resource"]):
        if isinstance(resource, str):
            text.append(resource)
        elif "Fn::GetAtt" in resource:
            text.append("${" + resource["Fn::GetAtt"] + "}")
        elif "Ref" in resource:
            text.append("${" + resource["Ref"] + "}")
        else:
            sub = resource["Fn::Sub"]
            text.append(sub if isinstance(sub, str) else sub[0])
    for alias, meaning in (aliases or {}).items():
        text = [item.replace(alias, meaning) for item in text]
    return text


def grants(statements: list[dict], action: str, target: str, aliases: dict | None = None) -> bool:
    """Whether an Allow statement grants `action` on the resource `target` (IAM's wildcards)."""
    return any(s["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action, a) for a in as_list(s["Action"]))
               and any(fnmatch.fnmatchcase(target, r) for r in resources_of(s, aliases)) for s in statements)

"""The SAM templates as the tests read them: template.yaml (the map) and the nested stacks it makes, with
CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...) as their long forms."""

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


TEMPLATE = load("template.yaml")
# Users' own styles: the nested stack `Training`, made only when TrainingOn. Its parameters are named after what
# the main stack passes them (StyleApi, OriginVerifySecret, RuntimeLayer, ...), so its resources read as they
# would in one template.
TRAINING_STACK = TEMPLATE["Resources"]["Training"]
TRAINING = load(TRAINING_STACK["Properties"]["Location"])
# The alarms and the budget: the nested stack `Alarms`, given the functions' names and the API's id.
ALARMS_STACK = TEMPLATE["Resources"]["Alarms"]
ALARMS = load(ALARMS_STACK["Properties"]["Location"])
NESTED = [TRAINING, ALARMS]
# Every resource by its logical id, whichever stack makes it (the ids are unique across the stacks).
RESOURCES = {name: resource for template in (TEMPLATE, *NESTED) for name, resource in template["Resources"].items()}
assert len(RESOURCES) == sum(len(template["Resources"]) for template in (TEMPLATE, *NESTED))


def passes_its_own(stack: dict) -> bool:
    """Whether the main stack passes each of a nested stack's parameters from what it names: a parameter called
    StyleApi is the main stack's StyleApi, so that the nested template reads as it would in one template."""
    return all(value in ({"Ref": name}, {"Fn::GetAtt": f"{name}.Arn"}) for name, value in
               stack["Properties"]["Parameters"].items() if name in TEMPLATE["Resources"] or name in
               TEMPLATE["Parameters"])

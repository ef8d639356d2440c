"""A site's own process on resolwe-bio's ``ProcessBio`` (tests/e2e/test_resolwe_bio.py).

The test puts this file into an app tree beside resolwe-bio 65.1.1's ``resolwe_bio/process/``
(unchanged), as a site's app would sit; it is not registered from here.
"""

from resolwe.process import IntegerField, StringField
from resolwe.process.models import Data
from resolwe_bio.process.runtime import ProcessBio


class BioRuntimeCheck(ProcessBio):
    """Use what ProcessBio adds (its knowledge-base models) and the object API."""

    slug = "e2e-bio-runtime"
    name = "ProcessBio runtime"
    version = "1.0.0"
    process_type = "data:e2ebio:runtime"
    requirements = {
        "expression-engine": "jinja",
        "executor": {"docker": {"image": "public.ecr.aws/genialis/resolwebio/base:ubuntu-22.04-14112023"}},
    }

    class Input:
        """Input fields."""

        greeting = StringField(label="Greeting")

    class Output:
        """Output fields."""

        models = StringField(label="ProcessBio's models")
        shout = StringField(label="Greeting, loud")
        own = IntegerField(label="Data objects of this process the contributor sees")

    def run(self, inputs, outputs):
        """Run."""
        models = (self.feature, self.mapping, self.variant, self.variant_call)
        outputs.models = ",".join(model._model_name for model in models)
        outputs.shout = inputs.greeting.upper()
        outputs.own = len(Data.filter(process__slug=self.data.process.slug))

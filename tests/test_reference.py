"""The README's module reference is generated from the field docstrings and stays current."""

from tools import reference


def test_readme_module_reference_is_current():
    assert reference.current() == reference.render(), "README.md's module reference is stale: run `make docs`"


def test_every_config_field_and_exposed_attribute_is_documented():
    rendered = reference.render()
    undocumented = [line for line in rendered.splitlines() if line.startswith("| `") and line.rstrip().endswith("|  |")]
    assert not undocumented, "fields without a docstring:\n" + "\n".join(undocumented)
    for construct in ("Function", "Api", "LogShipping", "EncryptionKey", "SecureBucket", "Monitoring", "Waf"):
        assert f"**`{construct}`**" in rendered, construct

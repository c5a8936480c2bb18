from pathlib import Path

import pytest

from qa.config import Settings
from qa.errors import ConfigError


def test_defaults_point_at_the_checkout():
    s = Settings.from_env({})
    assert s.seeds_dir.name == "seeds" and s.seeds_dir.is_dir()
    assert s.mode == "extractive" and s.top_k == 5 and not s.server_mode


def test_environment_overrides_defaults():
    s = Settings.from_env({"QA_INDEX_DIR": "/tmp/idx", "QA_TOP_K": "8", "QA_CHROMA_HOST": "localhost",
                           "QA_EMBED_MODEL": "/models/mein-modell"})
    assert s.index_dir == Path("/tmp/idx") and s.top_k == 8
    assert s.server_mode and s.chroma_port == 8000
    assert s.embed_model == "/models/mein-modell"


@pytest.mark.parametrize("env, named", [
    ({"QA_TOP_K": "fünf"}, "QA_TOP_K"),
    ({"QA_TOP_K": "0"}, "QA_TOP_K"),
    ({"QA_CHROMA_HOST": "h", "QA_CHROMA_PORT": "70000"}, "QA_CHROMA_PORT"),
    ({"QA_CHROMA_PORT": "8000"}, "QA_CHROMA_HOST"),
    ({"QA_MODE": "magisch"}, "QA_MODE"),
    ({"QA_CHUNK_CHARS": "5000"}, "QA_CHUNK_CHARS"),
    ({"QA_COLLECTION": "x"}, "QA_COLLECTION"),
    ({"QA_EMBED_BATCH": "-1"}, "QA_EMBED_BATCH"),
    ({"QA_APP_AUTH": "nur-ein-name"}, "QA_APP_AUTH"),
    ({"QA_APP_AUTH": ":geheim"}, "QA_APP_AUTH"),
])
def test_a_bad_value_names_the_variable(env, named):
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(env)


def test_blank_values_fall_back_to_defaults():
    assert Settings.from_env({"QA_TOP_K": "  "}).top_k == 5


def test_the_app_login_is_kept_out_of_the_repr():
    settings = Settings.from_env({"QA_APP_AUTH": "anna:geheim"})
    assert settings.app_auth == "anna:geheim" and "geheim" not in repr(settings)


def test_a_misspelt_setting_is_reported_with_the_one_it_resembles(caplog):
    with caplog.at_level("WARNING", logger="qa.config"):
        settings = Settings.from_env({"QA_TOPK": "3", "QA_DEBUG": "1", "QA_TEST_CHROMA_PORT": "8123"})
    assert settings.top_k == 5  # ignored, not guessed
    assert [r.getMessage() for r in caplog.records] == ["QA_TOPK is not a setting and is ignored; did you mean "
                                                        "QA_TOP_K?"]


def test_a_calibration_file_that_weighs_other_features_is_refused(tmp_path):
    from qa.calibration import Calibration

    path = tmp_path / "calibration.json"
    Calibration.load().save(path)
    assert Calibration.load(path) == Calibration.load()
    text = path.read_text(encoding="utf-8").replace('"decision_weights": [', '"decision_weights": [1.5,', 1)
    path.write_text(text, encoding="utf-8")
    from qa.decision import Evidence

    with pytest.raises(ConfigError, match=f"weighs {len(Evidence.FEATURES) + 1} features.*calibrate.py"):
        Calibration.load(path)


def test_a_folder_given_as_text_in_python_is_a_path():
    from pathlib import Path

    from qa.config import Settings

    settings = Settings.from_env({}).with_(index_dir="~/archiv-index")
    assert settings.index_dir == Path.home() / "archiv-index"


def test_a_calibration_file_fitted_on_features_in_another_order_is_refused(tmp_path):
    import json

    from qa.calibration import Calibration

    path = tmp_path / "calibration.json"
    Calibration.load().save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["fitted_on"]["features"] = list(reversed(data["fitted_on"]["features"]))
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="weighs the features.*calibrate.py"):
        Calibration.load(path)

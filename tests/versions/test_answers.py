"""v6's answer format without a database: image_size a number and release.contract JSON
text, wherever they appear in the $expand tree; other answers pass through untouched."""

from __future__ import annotations

import orjson

from fleetyard.versions import v6
from fleetyard.versions.answers import Answers

ANSWERS = Answers(v6.model(), v6.ANSWER_FORMATS)


def test_answers_without_a_changed_field_are_the_database_text():
    text = '{"d" : [{"id" : 1, "image_size" : "5"}]}'  # not an image: left alone, spaces and all
    assert ANSWERS.read("/device?$select=id", text) is text
    assert ANSWERS.read("/image?$select=id", text) is text
    assert ANSWERS.read("/image/$count", '{"d":3}') == '{"d":3}'


def test_fields_are_formatted_at_every_level():
    contract = {"type": "sw.application", "version": "1"}
    text = orjson.dumps({"d": [{"id": 1, "contract": contract, "contains__image": [
        {"id": 2, "image": [{"id": 3, "image_size": "3000000000"}]}]}]}).decode()
    body = orjson.loads(ANSWERS.read("/release(1)?$expand=contains__image($expand=image)", text))
    (release,) = body["d"]
    assert release["contract"] == orjson.dumps(contract).decode()
    assert release["contains__image"][0]["image"][0]["image_size"] == 3_000_000_000


def test_a_navigation_path_formats_its_last_resource():
    text = '{"d":[{"id":3,"image_size":"12"}]}'
    assert orjson.loads(ANSWERS.read("/release_image(2)/image", text))["d"] == [{"id": 3, "image_size": 12}]


def test_created_rows_and_nulls():
    assert ANSWERS.created("release", {"id": 1, "contract": None}) == {"id": 1, "contract": None}
    assert ANSWERS.created("image", {"id": 1, "image_size": "7"}) == {"id": 1, "image_size": 7}

"""The core's web layer: templating, authentication, CSRF, errors, and the helpers routes share."""

from starlette.convertors import IntegerConvertor, register_url_convertor


class IdConvertor(IntegerConvertor):
    """A row id in a path: at most 18 digits, so it always fits the databases' 64-bit keys (longer ones: 404)."""

    regex = "[0-9]{1,18}"


register_url_convertor("id", IdConvertor())

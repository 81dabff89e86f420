"""A person's browser for the hosted pages, without JavaScript (the pages need none): it
keeps cookies, reads forms from the HTML and submits them, and stops at redirects that
leave the service, as a browser would hand them to the relying party."""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

BASE = "https://testserver"


@dataclass
class Form:
    action: str
    inputs: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", "")))
        elif tag == "input" and self.forms:
            self.forms[-1].inputs[a.get("name", "")] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))


def forms_of(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Browser:
    """Follows redirects inside the service; returns the first response that is a page
    or a redirect elsewhere."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        others: dict[str, httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        """`others`: more services by origin (`https://upstream.test`), which redirects
        may lead to and this browser then follows too."""
        self._hosts = {urlsplit(BASE).netloc} | {urlsplit(o).netloc for o in others or {}}
        mounts = dict(others or {})
        self.http = httpx.AsyncClient(transport=transport, base_url=BASE, mounts=mounts or None)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def go(self, url: str) -> httpx.Response:
        return await self._follow(await self.http.get(url))

    async def submit(self, response: httpx.Response, **values: str) -> httpx.Response:
        (form,) = forms_of(response.text)
        data = {**form.inputs, **values}
        url = urljoin(str(response.url), form.action)
        return await self._follow(await self.http.post(url, data=data))

    async def _follow(self, response: httpx.Response) -> httpx.Response:
        for _ in range(10):
            location = response.headers.get("location")
            if response.status_code not in (301, 302, 303, 307) or location is None:
                return response
            target = urljoin(str(response.url), location)
            if urlsplit(target).netloc not in self._hosts:
                return response  # leaves the services: the relying party's business
            response = await self.http.get(target)
        raise AssertionError("redirect loop")

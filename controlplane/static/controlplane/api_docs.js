"use strict";
// Swagger UI on /api/docs, started from this static file (the CSP allows no inline
// script). An operator logged in to the admin tries the API with the session, and a
// write then carries the page's CSRF token (controlplane.api.docs_session); a token given
// in "Authorize" is sent by Swagger UI itself, and the API reads it first.
(function () {
  const root = document.getElementById("swagger-ui");
  const writes = ["POST", "PUT", "PATCH", "DELETE"];

  function withCsrfToken(request) {
    const target = new URL(request.url, document.baseURI);
    const method = (request.method || "GET").toUpperCase();
    if (target.origin === window.location.origin && writes.includes(method)) {
      request.headers[root.dataset.csrfHeader] = root.dataset.csrfToken;
    }
    return request;
  }

  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    requestInterceptor: withCsrfToken,
  });
})();

// Starts Swagger UI on the API docs page. A file of its own (not an inline script) so the
// page's Content Security Policy can allow scripts from this origin only.
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No badge that would send the document to a public validator.
    validatorUrl: null,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    showCommonExtensions: true,
  });
})();

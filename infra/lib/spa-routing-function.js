// CloudFront Function (cloudfront-js-2.0), viewer request, on the S3 default behavior only.
// A path whose last segment has no file extension is a client-side route of the console, so it is
// served index.html. /api/* and /webhooks/* have their own behaviors and never reach this function;
// distribution-wide error pages would instead turn the API's real 404s into index.html.
function handler(event) {
  var request = event.request;
  var lastSegment = request.uri.substring(request.uri.lastIndexOf('/') + 1);
  if (lastSegment.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}

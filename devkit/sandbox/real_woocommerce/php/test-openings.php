<?php
/*
 * Plugin Name: Test openings (real-store harness only)
 * Description: Lets this loopback test store reach the connector on 127.0.0.1 on any port, trusting the
 * harness's test certificate. Stands in for the connector's public URL; never part of a merchant's store.
 */
add_filter('http_request_host_is_external', '__return_true');
add_filter('http_allowed_safe_ports', function ($ports, $host, $url) {
    $port = parse_url($url, PHP_URL_PORT);
    if ($port) {
        $ports[] = (int) $port;
    }
    return $ports;
}, 10, 3);
add_filter('http_request_args', function ($args) {
    if (defined('IC_TEST_CA') && IC_TEST_CA && is_file(IC_TEST_CA)) {
        $args['sslcertificates'] = IC_TEST_CA;
    }
    return $args;
});

<?php
// Install WordPress + WooCommerce into the configured database, without a browser.
// Usage: php install.php WP_DIR ADMIN_PASSWORD
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = 'localhost';
require $argv[1] . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
wp_install('Real Test Store', 'admin', 'admin@example.invalid', false, '', $argv[2]);
update_option('permalink_structure', '/%postname%/');
$result = activate_plugin('woocommerce/woocommerce.php');
if (is_wp_error($result)) {
    fwrite(STDERR, $result->get_error_message() . "\n");
    exit(1);
}
WC_Install::install();
update_option('woocommerce_onboarding_profile', array('skipped' => true));
echo json_encode(array('ok' => true, 'wordpress' => get_bloginfo('version'), 'woocommerce' => WC()->version)), "\n";

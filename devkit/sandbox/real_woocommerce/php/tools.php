<?php
// Harness tools run inside the store's WordPress: php tools.php WP_DIR COMMAND [ARG] (JSON on stdout).
$_SERVER['HTTP_HOST'] = 'localhost';
require $argv[1] . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/image.php';
require_once ABSPATH . 'wp-admin/includes/file.php';
require_once ABSPATH . 'wp-admin/includes/media.php';
wp_set_current_user(1);
$command = $argv[2];
$arg = $argv[3] ?? '';

function ic_rest_keys($description) {
    global $wpdb;
    $ck = 'ck_' . wc_rand_hash();
    $cs = 'cs_' . wc_rand_hash();
    $wpdb->insert($wpdb->prefix . 'woocommerce_api_keys', array(
        'user_id' => 1, 'description' => $description, 'permissions' => 'read_write',
        'consumer_key' => wc_api_hash($ck), 'consumer_secret' => $cs, 'truncated_key' => substr($ck, -7),
    ));
    return array('consumer_key' => $ck, 'consumer_secret' => $cs, 'key_id' => $wpdb->insert_id);
}

function ic_upload($path, $name, $alt) {
    $tmp = wp_tempnam($name);
    copy($path, $tmp);
    $id = media_handle_sideload(array('name' => $name, 'tmp_name' => $tmp), 0);
    if (is_wp_error($id)) {
        throw new Exception($id->get_error_message());
    }
    update_post_meta($id, '_wp_attachment_image_alt', $alt);
    return $id;
}

switch ($command) {
    case 'credentials':
        $keys = ic_rest_keys('Harness admin key');
        list($password, $item) = WP_Application_Passwords::create_new_application_password(1, array('name' => 'harness'));
        echo json_encode($keys + array('app_user' => 'admin', 'app_password' => $password, 'app_uuid' => $item['uuid']));
        break;
    case 'run-queue':
        // Deliver what waits in Action Scheduler now (webhooks), as WP-Cron would on site traffic.
        $ran = 0;
        for ($i = 0; $i < 10; $i++) {
            $n = ActionScheduler_QueueRunner::instance()->run('harness');
            $ran += $n;
            if ($n === 0) break;
        }
        echo json_encode(array('ran' => $ran));
        break;
    case 'seed':
        // STDIN: {"photos": {"key": {"path":..., "name":..., "alt":...}}, "products": [...]}
        $spec = json_decode(file_get_contents('php://stdin'), true);
        $media = array();
        foreach ($spec['photos'] as $key => $photo) {
            $media[$key] = ic_upload($photo['path'], $photo['name'], $photo['alt']);
        }
        $out = array('media' => $media, 'products' => array());
        foreach ($spec['products'] as $p) {
            $ids = array_map(function ($k) use ($media) { return $media[$k]; }, $p['photos']);
            if (!empty($p['variations'])) {
                $product = new WC_Product_Variable();
                $attr = new WC_Product_Attribute();
                $attr->set_name('Colour');
                $attr->set_options(array_keys($p['variations']));
                $attr->set_visible(true);
                $attr->set_variation(true);
                $product->set_attributes(array($attr));
            } else {
                $product = new WC_Product_Simple();
                $product->set_regular_price('19.99');
            }
            $product->set_name($p['name']);
            $product->set_status('publish');
            if ($ids) {
                $product->set_image_id($ids[0]);
                $product->set_gallery_image_ids(array_slice($ids, 1));
            }
            $pid = $product->save();
            $variations = array();
            foreach ($p['variations'] ?? array() as $option => $photo) {
                $v = new WC_Product_Variation();
                $v->set_parent_id($pid);
                $v->set_attributes(array('colour' => $option));
                $v->set_regular_price('24.99');
                $v->set_status('publish');
                if ($photo) {
                    $v->set_image_id($media[$photo]);
                }
                $variations[$option] = $v->save();
            }
            $out['products'][$p['key']] = array('id' => $pid, 'variations' => $variations);
        }
        echo json_encode($out);
        break;
    case 'attachment':
        // What WordPress keeps about an attachment: its served file and the merchant's original upload.
        $id = (int) $arg;
        echo json_encode(array(
            'file' => get_attached_file($id),
            'original' => wp_get_original_image_path($id),
            'url' => wp_get_attachment_url($id),
            'original_url' => wp_get_original_image_url($id),
            'mime' => get_post_mime_type($id),
        ));
        break;
    default:
        fwrite(STDERR, "unknown command $command\n");
        exit(2);
}
echo "\n";

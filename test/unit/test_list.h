/* test/unit/test_list.h: every unit test, one TEST_ENTRY line each (libuv's
 * test-list.h). Keep the lines grouped by module. */
#define TEST_LIST(TEST_ENTRY)                                               \
    /* core/gw */                                                           \
    TEST_ENTRY(gw_strerror)                                                 \
    TEST_ENTRY(gw_ascii)                                                    \
    TEST_ENTRY(gw_days_from_civil)                                          \
    /* core/hash */                                                         \
    TEST_ENTRY(hash_crc_check_values)                                       \
    TEST_ENTRY(hash_crc_incremental)                                        \
    TEST_ENTRY(hash_crc_simd)                                               \
    TEST_ENTRY(hash_crc_combine)                                            \
    TEST_ENTRY(hash_cksum)                                                  \
    TEST_ENTRY(hash_cksum_names)                                            \
    TEST_ENTRY(hash_base64)                                                 \
    TEST_ENTRY(hash_hex)                                                    \
    TEST_ENTRY(hash_digests)                                                \
    /* core/hashpipe */                                                     \
    TEST_ENTRY(hashpipe_many_segments)                                      \
    TEST_ENTRY(hash_misc)                                                   \
    /* core/shm */                                                          \
    TEST_ENTRY(shm_owner_died)                                              \
    TEST_ENTRY(shm_died_repairing)                                          \
    /* core/log */                                                          \
    TEST_ENTRY(log_escape)                                                  \
    /* core/conf */                                                         \
    TEST_ENTRY(conf_defaults)                                               \
    TEST_ENTRY(conf_embedded_matches_example)                               \
    TEST_ENTRY(conf_setters)                                                \
    TEST_ENTRY(conf_bounds)                                                 \
    TEST_ENTRY(conf_syntax)                                                 \
    TEST_ENTRY(conf_blocks)                                                 \
    TEST_ENTRY(conf_command_line)                                           \
    TEST_ENTRY(conf_users)                                                  \
    TEST_ENTRY(conf_summary)                                                \
    TEST_ENTRY(conf_tls)                                                    \
    TEST_ENTRY(conf_proxy_protocol)                                         \
    TEST_ENTRY(conf_garbage)                                                \
    TEST_ENTRY(conf_accounts_and_proxies)                                   \
    TEST_ENTRY(conf_replication_targets)                                    \
    TEST_ENTRY(conf_replication_target_errors)                              \
    TEST_ENTRY(conf_cors_default)                                           \
    TEST_ENTRY(conf_keep_restart)                                           \
    /* s3/sigv4 */                                                          \
    TEST_ENTRY(sigv4_example_get_object)                                    \
    TEST_ENTRY(sigv4_sign_example)                                          \
    TEST_ENTRY(sigv4_example_put_object)                                    \
    TEST_ENTRY(sigv4_example_get_lifecycle)                                 \
    TEST_ENTRY(sigv4_example_list_objects)                                  \
    TEST_ENTRY(sigv4_example_presigned)                                     \
    TEST_ENTRY(sigv4_presigned_malformed)                                   \
    TEST_ENTRY(sigv4_example_chunked)                                       \
    TEST_ENTRY(sigv4_example_chunked_trailer)                               \
    TEST_ENTRY(sigv4_signing_key_cache)                                     \
    TEST_ENTRY(sigv4_uri_encoding)                                          \
    TEST_ENTRY(sigv4_canonical_query)                                       \
    TEST_ENTRY(sigv4_canonical_uri)                                         \
    TEST_ENTRY(sigv4_canonical_headers)                                     \
    TEST_ENTRY(sigv4_signed_header_missing)                                 \
    TEST_ENTRY(sigv4_parse_header_forms)                                    \
    TEST_ENTRY(sigv4_parse_header_errors)                                   \
    TEST_ENTRY(sigv4_parse_header_dates)                                    \
    TEST_ENTRY(sigv4_no_content_sha256)                                     \
    TEST_ENTRY(sigv4_time_parse)                                            \
    TEST_ENTRY(sigv4_garbage)                                               \
    /* s3/auth/sigv2 */                                                     \
    TEST_ENTRY(sigv2_example_get_object)                                    \
    TEST_ENTRY(sigv2_example_put_object)                                    \
    TEST_ENTRY(sigv2_example_list)                                          \
    TEST_ENTRY(sigv2_example_fetch_acl)                                     \
    TEST_ENTRY(sigv2_example_delete_x_amz_date)                             \
    TEST_ENTRY(sigv2_example_upload_amz_headers)                            \
    TEST_ENTRY(sigv2_example_list_buckets_and_unicode)                      \
    TEST_ENTRY(sigv2_example_presigned)                                     \
    TEST_ENTRY(sigv2_botocore_put_object)                                   \
    TEST_ENTRY(sigv2_botocore_get_object_versioned)                         \
    TEST_ENTRY(sigv2_botocore_presigned_put_with_acl)                       \
    TEST_ENTRY(sigv2_botocore_bucket_path_style)                            \
    TEST_ENTRY(sigv2_subresource_order)                                     \
    TEST_ENTRY(sigv2_subresource_list)                                      \
    TEST_ENTRY(sigv2_amz_headers)                                           \
    TEST_ENTRY(sigv2_parse_header_errors)                                   \
    TEST_ENTRY(sigv2_parse_header_dates)                                    \
    TEST_ENTRY(sigv2_parse_query_errors)                                    \
    TEST_ENTRY(sigv2_time_parse)                                            \
    TEST_ENTRY(sigv2_hmac)                                                  \
    TEST_ENTRY(sigv2_garbage)                                               \
    /* http/awschunked */                                                   \
    TEST_ENTRY(awschunked_signed)                                           \
    TEST_ENTRY(awschunked_unsigned_trailer)                                 \
    TEST_ENTRY(awschunked_signed_trailer)                                   \
    TEST_ENTRY(awschunked_endings)                                          \
    TEST_ENTRY(awschunked_malformed)                                        \
    TEST_ENTRY(awschunked_limits)                                           \
    TEST_ENTRY(awschunked_callback_error)                                   \
    TEST_ENTRY(awschunked_garbage)                                          \
    /* http/conn */                                                         \
    TEST_ENTRY(http_date_matches_strftime)                                  \
    /* http/range, http/proxy, s3/xml */                                   \
    TEST_ENTRY(range_forms)                                                 \
    TEST_ENTRY(range_unsatisfiable)                                         \
    TEST_ENTRY(range_ignored)                                               \
    TEST_ENTRY(proxy_v2)                                                    \
    TEST_ENTRY(proxy_v2_invalid)                                            \
    TEST_ENTRY(proxy_v1)                                                    \
    TEST_ENTRY(proxy_v1_invalid)                                            \
    TEST_ENTRY(xml_escape)                                                  \
    TEST_ENTRY(xml_grows)                                                   \
    TEST_ENTRY(xml_parse)                                                   \
    TEST_ENTRY(xml_parse_refuses)                                           \
    /* s3/acl */                                                            \
    TEST_ENTRY(acl_canned)                                                  \
    TEST_ENTRY(acl_canned_bucket_owner)                                     \
    TEST_ENTRY(acl_canned_unknown)                                          \
    TEST_ENTRY(acl_grant_header_forms)                                      \
    TEST_ENTRY(acl_grant_header_errors)                                     \
    TEST_ENTRY(acl_grant_header_limit)                                      \
    TEST_ENTRY(acl_parse_xml_example)                                       \
    TEST_ENTRY(acl_parse_xml_empty)                                         \
    TEST_ENTRY(acl_parse_xml_malformed)                                     \
    TEST_ENTRY(acl_parse_xml_refuses_dtd)                                   \
    TEST_ENTRY(acl_parse_xml_invalid)                                       \
    TEST_ENTRY(acl_parse_xml_limit)                                         \
    TEST_ENTRY(acl_xml_output)                                              \
    TEST_ENTRY(acl_xml_round_trip)                                          \
    TEST_ENTRY(acl_encode_decode)                                           \
    TEST_ENTRY(acl_decode_corrupt)                                          \
    TEST_ENTRY(acl_perms)                                                   \
    /* s3/policy */                                                         \
    TEST_ENTRY(policy_parse_errors)                                         \
    TEST_ENTRY(policy_principals)                                           \
    TEST_ENTRY(policy_actions_resources)                                    \
    TEST_ENTRY(policy_deny_wins)                                            \
    TEST_ENTRY(policy_cond_string)                                          \
    TEST_ENTRY(policy_documented_keys)                                      \
    TEST_ENTRY(policy_cond_typed)                                           \
    TEST_ENTRY(policy_cond_ip)                                              \
    TEST_ENTRY(policy_cond_sets)                                            \
    TEST_ENTRY(policy_variables)                                            \
    TEST_ENTRY(policy_like)                                                 \
    TEST_ENTRY(policy_garbage)                                              \
    /* http/connip */                                                       \
    TEST_ENTRY(connip_limit_over_workers)                                   \
    TEST_ENTRY(connip_probe_runs_and_full)                                  \
    TEST_ENTRY(connip_owner_died)                                           \
    TEST_ENTRY(connip_worker_gone_many)                                     \
    /* store/pin */                                                         \
    TEST_ENTRY(pin_counts_and_probe_runs)                                   \
    TEST_ENTRY(pin_overflow_and_workers)                                    \
    /* store/record */                                                      \
    TEST_ENTRY(record_fields)                                               \
    TEST_ENTRY(record_meta)                                                 \
    TEST_ENTRY(record_bucket)                                               \
    TEST_ENTRY(record_small)                                                \
    TEST_ENTRY(record_object)                                               \
    TEST_ENTRY(record_object_tags)                                          \
    TEST_ENTRY(record_counter)                                              \
    /* store */                                                             \
    TEST_ENTRY(store_chunk_writer)                                          \
    TEST_ENTRY(store_refcounts_and_gc)                                      \
    TEST_ENTRY(store_long_keys_order)                                       \
    TEST_ENTRY(store_format_upgrade_v1)                                     \
    TEST_ENTRY(store_format_newer_refused)                                  \
    TEST_ENTRY(store_bucket_long_names)                                     \
    TEST_ENTRY(store_read_scope)                                            \
    TEST_ENTRY(store_object_generation)                                     \
    TEST_ENTRY(store_lifecycle)                                             \
    TEST_ENTRY(store_outbox)                                                \
    TEST_ENTRY(store_outbox_tool)                                           \
    TEST_ENTRY(store_map_growth)                                            \
    TEST_ENTRY(version_id_roundtrip)                                        \
    TEST_ENTRY(version_id_unique_and_opaque)                                \
    TEST_ENTRY(version_id_refused)                                          \
    TEST_ENTRY(version_keys_order)                                          \
    TEST_ENTRY(version_record_fields)                                       \
    TEST_ENTRY(store_versions)                                              \
    TEST_ENTRY(store_version_rewrite)                                       \
    TEST_ENTRY(store_format_upgrade_v2)                                     \
    TEST_ENTRY(store_upkeys)                                                \
    TEST_ENTRY(store_sweep_background)                                      \
    TEST_ENTRY(store_outbox_due)                                            \
    /* s3/auth/tags */                                                      \
    TEST_ENTRY(tags_header_sorted)                                          \
    TEST_ENTRY(tags_document_sorted)                                        \
    /* s3/website */                                                        \
    TEST_ENTRY(website_parse)                                               \
    TEST_ENTRY(website_parse_errors)                                        \
    TEST_ENTRY(website_index)                                               \
    TEST_ENTRY(website_route)                                               \
    /* s3/replication */                                                    \
    TEST_ENTRY(repl_parse_v2)                                               \
    TEST_ENTRY(repl_parse_v1)                                               \
    TEST_ENTRY(repl_generated_ids)                                          \
    TEST_ENTRY(repl_parse_malformed)                                        \
    TEST_ENTRY(repl_parse_invalid)                                          \
    TEST_ENTRY(repl_parse_limits)                                           \
    TEST_ENTRY(repl_parse_unsupported)                                      \
    TEST_ENTRY(repl_encode_decode)                                          \
    TEST_ENTRY(repl_xml)                                                    \
    TEST_ENTRY(repl_match)                                                  \
    /* s3/lifecycle */                                                      \
    TEST_ENTRY(lc_parse)                                                    \
    TEST_ENTRY(lc_parse_errors)                                             \
    TEST_ENTRY(lc_dates)                                                    \
    TEST_ENTRY(lc_match)                                                    \
    TEST_ENTRY(lc_earliest_and_decide)                                      \
    TEST_ENTRY(lc_decide_versions)                                          \
    /* s3/access */                                                         \
    TEST_ENTRY(access_table)                                                \
    TEST_ENTRY(access_known)                                                \
    TEST_ENTRY(access_absent_aws_keys)                                      \
    /* http/client */                                                       \
    TEST_ENTRY(client_get_content_length)                                   \
    TEST_ENTRY(client_get_chunked)                                          \
    TEST_ENTRY(client_keepalive_reuse)                                      \
    TEST_ENTRY(client_connection_cap)                                       \
    TEST_ENTRY(client_upload_64m_stream)                                    \
    TEST_ENTRY(client_upload_async_producer)                                \
    TEST_ENTRY(client_download_64m_paused)                                  \
    TEST_ENTRY(client_server_closes_mid_response)                           \
    TEST_ENTRY(client_connect_refused)                                      \
    TEST_ENTRY(client_response_timeout)                                     \
    TEST_ENTRY(client_head)                                                 \
    TEST_ENTRY(client_expect_continue_rejected)                             \
    TEST_ENTRY(client_expect_continue_accepted)                             \
    TEST_ENTRY(client_expect_continue_timeout)                              \
    TEST_ENTRY(client_retry_stale_keepalive)                                \
    TEST_ENTRY(client_cancel_and_close)                                     \
    TEST_ENTRY(client_resolve_localhost)                                    \
    TEST_ENTRY(client_refuses_bad_input)                                    \
    TEST_ENTRY(client_parse_response)                                       \
    TEST_ENTRY(client_early_response_stops_body)                            \
    TEST_ENTRY(client_producer_contract)                                    \
    TEST_ENTRY(client_resume_inside_callbacks)                              \
    TEST_ENTRY(client_tls_verify_fails_without_ca)                          \
    TEST_ENTRY(client_tls_verify_ok_with_ca)                                \
    TEST_ENTRY(client_tls_hostname_mismatch)                                \
    TEST_ENTRY(client_tls_no_verify)                                        \
    TEST_ENTRY(client_tls_streams)                                          \
    /* s3/cors */                                                           \
    TEST_ENTRY(cors_parse)                                                  \
    TEST_ENTRY(cors_rule_count)                                             \
    TEST_ENTRY(cors_malformed)                                              \
    TEST_ENTRY(cors_invalid)                                                \
    TEST_ENTRY(cors_origin_match)                                           \
    TEST_ENTRY(cors_match)                                                  \
    TEST_ENTRY(cors_headers)                                                \
    TEST_ENTRY(cors_default_rule)                                           \
    /* http/form */                                                          \
    TEST_ENTRY(form_sample_whole)                                           \
    TEST_ENTRY(form_every_split)                                            \
    TEST_ENTRY(form_byte_at_a_time)                                         \
    TEST_ENTRY(form_near_delimiters)                                        \
    TEST_ENTRY(form_quoted_names)                                           \
    TEST_ENTRY(form_boundary_header)                                        \
    TEST_ENTRY(form_errors)                                                 \
    TEST_ENTRY(form_header_limit)                                           \
    TEST_ENTRY(form_callback_stops)                                         \
    /* s3/auth/postpolicy */                                                 \
    TEST_ENTRY(postpolicy_conditions)                                       \
    TEST_ENTRY(postpolicy_coverage)                                         \
    TEST_ENTRY(postpolicy_expiry)                                           \
    TEST_ENTRY(postpolicy_invalid_documents)                                \
    /* end */

"""test/bench/multipart.py: how long a 1 GiB CopyObject takes (it only adds
chunk references) and how long completing a 1000-part upload takes (parts
made with UploadPartCopy of a 5 MiB object, so no bytes move). Prints
figures; asserts nothing. Usage: python3 test/bench/multipart.py [S3GW_BIN]"""

import os
import sys
import time

import benchlib

MiB = 1024 * 1024


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else 'build/s3gw'
    with benchlib.server(binary, 'chunk_size 1m;') as (url, tmp):
        s3 = benchlib.client(url, max_pool_connections=20)
        s3.create_bucket(Bucket='bench')
        path = os.path.join(tmp, 'blob')
        with open(path, 'wb') as f:
            for _ in range(1024 // 8):
                f.write(os.urandom(8 * MiB))
        with open(path, 'rb') as f:
            s3.put_object(Bucket='bench', Key='big', Body=f)
        os.unlink(path)

        t = time.monotonic()
        s3.copy_object(Bucket='bench', Key='big-copy',
                       CopySource={'Bucket': 'bench', 'Key': 'big'})
        print('figure: CopyObject of 1 GiB: %.1f ms'
              % ((time.monotonic() - t) * 1000))

        s3.put_object(Bucket='bench', Key='part', Body=os.urandom(5 * MiB))
        up = s3.create_multipart_upload(Bucket='bench', Key='assembled')
        parts = []
        t = time.monotonic()
        for n in range(1, 1001):
            r = s3.upload_part_copy(Bucket='bench', Key='assembled',
                                    UploadId=up['UploadId'], PartNumber=n,
                                    CopySource={'Bucket': 'bench',
                                                'Key': 'part'})
            parts.append({'PartNumber': n,
                          'ETag': r['CopyPartResult']['ETag']})
        print('figure: 1000 x UploadPartCopy of 5 MiB: %.1f s'
              % (time.monotonic() - t))
        t = time.monotonic()
        r = s3.complete_multipart_upload(
            Bucket='bench', Key='assembled', UploadId=up['UploadId'],
            MultipartUpload={'Parts': parts})
        print('figure: CompleteMultipartUpload of 1000 parts (5000 MiB): '
              '%.1f ms, ETag %s' % ((time.monotonic() - t) * 1000, r['ETag']))
        h = s3.head_object(Bucket='bench', Key='assembled')
        print('figure: assembled object size %d bytes' % h['ContentLength'])


if __name__ == '__main__':
    main()

;;; bench/programs/hashstrings.lsp -- hash tables and strings for ECL (bench/run.sh, part programs)
;;; As hashstrings.scm: each round fills a fresh EQUAL hash table (it starts
;;; small and rehashes as it grows) with N string keys mapping to string
;;; values, deletes every third key, looks every key up, replaces the values
;;; of the rest with new strings (string-upcase, subseq), splits and joins
;;; strings.  The previous round's table stays live while the next runs.
;;; Size: N = 80000, 3 rounds (hashstrings.scm: 100000; ECL is slower here);
;;; N = 3000, 2 rounds when PROG_SIZE=smoke.

(defparameter *smoke* (equal (ext:getenv "PROG_SIZE") "smoke"))
(defparameter *n* (if *smoke* 3000 80000))
(defparameter *rounds* (if *smoke* 2 3))

(defun num (i)
  "The decimal digits of the non-negative integer I, in one fresh string
(princ-to-string goes through a string stream: slower, more garbage)."
  (declare (fixnum i))
  (let* ((len (if (zerop i) 1 (loop for k fixnum = i then (floor k 10) while (> k 0) count t)))
         (s (make-string len)))
    (loop for p fixnum from (1- len) downto 0
          for k fixnum = i then (floor k 10)
          do (setf (char s p) (code-char (+ 48 (mod k 10)))))
    s))

(defun key (r i)
  (concatenate 'string "key-" (num i) "/" (num (mod (* i 7919) 65521)) "-r" (num r)))

(defun split (s ch)
  (loop for start = 0 then (1+ pos)
        for pos = (position ch s :start start)
        collect (subseq s start pos)
        while pos))

(defun one-round (r)
  (let ((h (make-hash-table :test 'equal)) (n *n*) (found 0) (chars 0) (parts 0))
    (dotimes (i n)
      (setf (gethash (key r i) h) (concatenate 'string "value:" (num (* i i)))))
    (loop for i from 0 below n by 3 do (remhash (key r i) h))
    (dotimes (i n)
      (let ((v (gethash (key r i) h)))
        (when v
          (incf found)
          (incf chars (length v))
          (setf (gethash (key r i) h)
                (string-upcase (concatenate 'string (subseq v 6) "-" (num r)))))))
    (maphash (lambda (k v)
               (incf parts (+ (length (split k #\-))
                              (length (concatenate 'string k "=" v)))))
             h)
    (values h (+ found chars parts (hash-table-count h)))))

(defun run ()
  (let ((kept nil) (acc 0))
    (dotimes (r *rounds*)
      (multiple-value-bind (h v) (one-round r)
        (setf kept h)
        (incf acc v)))
    (+ acc (hash-table-count kept))))

(format t "check: hashstrings n ~a rounds ~a total ~a~%" *n* *rounds* (run))
